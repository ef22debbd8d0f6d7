//! The lecture's weather payload, and the unit system its numbers are in.
//!
//! Owns the meaning of a weather answer; how it is laid out on a screen is the front ends'.

use serde::Serialize;
use serde_json::Value;
use url::Url;

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

/// The unit system of a weather answer, read from the request's `units=` parameter
/// (OpenWeather's names, which the lecture's API passes on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Units {
    Metric,
    Imperial,
    Standard,
    /// No `units=` in the URL: the API's default, metric (see [`Units::of`]).
    Default,
    /// A value neither the lecture's API nor OpenWeather knows (sanitised).
    Unknown(String),
}

impl Units {
    /// The unit system of an answer from `url`.
    ///
    /// Without `units=` the numbers are taken as Celsius. OpenWeather itself would answer in
    /// Kelvin, but tokenscope never talks to OpenWeather: it talks to the API in front of
    /// it, and both the lecture's API and the sandbox's default to `metric` (the sandbox
    /// answers `?units=` absent exactly as `?units=metric`).
    pub fn of(url: &Url) -> Units {
        let units = url
            .query_pairs()
            .find(|(k, _)| k == "units")
            .map(|(_, v)| v.into_owned());
        match units.as_deref() {
            None => Units::Default,
            Some("metric") => Units::Metric,
            Some("imperial") => Units::Imperial,
            Some("standard") => Units::Standard,
            Some(other) => Units::Unknown(crate::text::sanitize(other, false)),
        }
    }

    /// The temperature unit: "°C", "°F", "K", or a bare "°" when the system is unknown.
    pub fn temperature(&self) -> &'static str {
        match self {
            Units::Metric | Units::Default => "°C",
            Units::Imperial => "°F",
            Units::Standard => "K",
            Units::Unknown(_) => "°",
        }
    }

    /// The system's name, saying where it came from when the URL did not name it.
    pub fn describe(&self) -> String {
        match self {
            Units::Metric => "metric".into(),
            Units::Imperial => "imperial".into(),
            Units::Standard => "standard".into(),
            Units::Default => "metric (the API's default; api_url sets no units=)".into(),
            Units::Unknown(other) => format!("{other} (unknown)"),
        }
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

    #[test]
    fn units_follow_the_query_and_default_to_celsius() {
        let of = |q: &str| Units::of(&Url::parse(&format!("http://h/w/Oslo{q}")).unwrap());
        assert_eq!(of("").temperature(), "°C");
        assert_eq!(of("?units=metric").temperature(), "°C");
        assert_eq!(of("?country=NO&units=imperial").temperature(), "°F");
        assert_eq!(of("?units=standard").temperature(), "K");
        assert_eq!(of("?units=kelvin%1b").temperature(), "°");
        assert_eq!(of("?units=kelvin%1b").describe(), "kelvin\\u{1b} (unknown)");
        assert!(of("").describe().contains("default"));
    }
}
