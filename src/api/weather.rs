//! The lecture's weather payload.

use serde::Serialize;
use serde_json::Value;

/// `{temp, feels_like, temp_min, temp_max, pressure, humidity}`, any subset (OpenWeather's
/// `main` object, which the lecture's API passes through).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Weather {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temp: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feels_like: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temp_min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temp_max: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pressure: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub humidity: Option<f64>,
}

const KEYS: [&str; 6] = [
    "temp",
    "feels_like",
    "temp_min",
    "temp_max",
    "pressure",
    "humidity",
];

impl Weather {
    /// Recognise the shape at the top level or under `main`: at least one of the keys, and
    /// every one of them that is present is a number.
    pub fn from_json(v: &Value) -> Option<Weather> {
        let obj = v.as_object()?;
        let obj = match obj.get("main") {
            Some(Value::Object(m)) if !KEYS.iter().any(|k| obj.contains_key(*k)) => m,
            _ => obj,
        };
        let mut found = false;
        let mut vals = [None; 6];
        for (i, k) in KEYS.iter().enumerate() {
            if let Some(x) = obj.get(*k) {
                vals[i] = Some(x.as_f64()?);
                found = true;
            }
        }
        found.then_some(Weather {
            temp: vals[0],
            feels_like: vals[1],
            temp_min: vals[2],
            temp_max: vals[3],
            pressure: vals[4],
            humidity: vals[5],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shapes() {
        let full = json!({"temp":281.5,"feels_like":279.1,"temp_min":280,"temp_max":283,"pressure":1012,"humidity":87});
        let w = Weather::from_json(&full).unwrap();
        assert_eq!(w.pressure, Some(1012.0));
        let nested = json!({"name":"Seattle","main":{"temp":8.5}});
        assert_eq!(Weather::from_json(&nested).unwrap().temp, Some(8.5));
        assert!(Weather::from_json(&json!({"temp":"warm"})).is_none());
        assert!(Weather::from_json(&json!({"city":"x"})).is_none());
        assert!(Weather::from_json(&json!([1])).is_none());
    }
}
