//! OData query options as the sandbox's Graph takes them: `$filter` (`prop eq 'value'` and
//! `prop/any(x:x eq 'value')` on the properties each collection supports), `$select`,
//! `$top` and `$skiptoken`, and the paging that follows from them (`@odata.nextLink`
//! pointing back at the sandbox).
//!
//! Owns parsing those options (a request's query is hostile: sizes capped, every value
//! checked) and applying them to rendered objects. Must not know what the objects are.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use super::wire::{GraphError, echo};
use crate::sandbox::state::MAX_PAGE_SIZE;

/// The longest query string the sandbox's Graph reads.
const MAX_QUERY: usize = 4096;

/// The largest offset a `$skiptoken` may carry (the sandbox's tenants are small).
const MAX_OFFSET: usize = 100_000;

/// How a `$filter` compares a property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Form {
    /// `prop eq 'value'`
    Eq,
    /// `prop/any(x:x eq 'value')`
    Any,
}

/// A parsed `$filter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Filter {
    pub form: Form,
    pub property: String,
    pub value: String,
}

/// The query options of one request.
#[derive(Debug, Default)]
pub(super) struct Options {
    pub filter: Option<Filter>,
    pub top: Option<usize>,
    pub select: Option<Vec<String>>,
    /// Where the page starts (from `$skiptoken`).
    pub offset: usize,
    /// The options as sent, minus `$skiptoken`: the next link repeats them.
    pairs: Vec<(String, String)>,
}

impl Options {
    pub fn parse(query: Option<&str>) -> Result<Options, GraphError> {
        let query = query.unwrap_or("");
        if query.len() > MAX_QUERY {
            return Err(GraphError::bad_request("The request URI is too long."));
        }
        let mut options = Options::default();
        let mut seen: Vec<String> = Vec::new();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let key = name.to_ascii_lowercase();
            if !key.starts_with('$') || seen.contains(&key) {
                continue;
            }
            seen.push(key.clone());
            match key.as_str() {
                "$filter" => options.filter = Some(parse_filter(&value)?),
                "$top" => options.top = Some(parse_top(&value)?),
                "$select" => options.select = Some(parse_select(&value)?),
                "$skiptoken" => {
                    options.offset = parse_skiptoken(&value)?;
                    continue;
                }
                _ => {
                    return Err(GraphError::bad_request(format!(
                        "Query option '{}' is not supported.",
                        echo(&name)
                    )));
                }
            }
            options.pairs.push((name.into_owned(), value.into_owned()));
        }
        Ok(options)
    }

    /// One page of `items` (after the filter), and the next link when more remain.
    /// `here` is the URL of this request without its query.
    pub fn page(
        &self,
        items: Vec<Value>,
        default_size: usize,
        here: &str,
    ) -> (Vec<Value>, Option<String>) {
        let size = self.top.unwrap_or(default_size).clamp(1, MAX_PAGE_SIZE);
        let total = items.len();
        let page: Vec<Value> = items.into_iter().skip(self.offset).take(size).collect();
        let next = self.offset.saturating_add(size);
        let link = (next < total).then(|| {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            for (name, value) in &self.pairs {
                query.append_pair(name, value);
            }
            query.append_pair("$skiptoken", &skiptoken(next));
            format!("{here}?{}", query.finish())
        });
        (page, link)
    }
}

impl Filter {
    /// Refuses a filter on a property the collection does not support, as Graph does.
    pub fn supported(&self, allowed: &[(Form, &str)], resource: &str) -> Result<(), GraphError> {
        if allowed
            .iter()
            .any(|(form, p)| *form == self.form && p.eq_ignore_ascii_case(&self.property))
        {
            return Ok(());
        }
        Err(GraphError::bad_request(format!(
            "Unsupported or invalid query filter clause specified for property '{}' of resource '{resource}'.",
            echo(&self.property)
        )))
    }

    /// Whether an object passes. Directory strings compare case-insensitively.
    pub fn matches(&self, object: &Value) -> bool {
        let property = object.as_object().and_then(|o| {
            o.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&self.property))
                .map(|(_, v)| v)
        });
        let same = |v: &Value| {
            v.as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case(&self.value))
        };
        match (self.form, property) {
            (Form::Eq, Some(v)) => same(v),
            (Form::Any, Some(Value::Array(items))) => items.iter().any(same),
            _ => false,
        }
    }
}

/// Keeps the `$select`ed properties of an object (in the object's order), refusing one
/// it does not have, as Graph does.
pub(super) fn select(
    object: Value,
    names: &[String],
    type_name: &str,
) -> Result<Value, GraphError> {
    let Value::Object(map) = object else {
        return Ok(object);
    };
    if let Some(missing) = names
        .iter()
        .find(|n| !map.keys().any(|k| k.eq_ignore_ascii_case(n)))
    {
        return Err(GraphError::bad_request(format!(
            "Could not find a property named '{}' on type 'microsoft.graph.{type_name}'.",
            echo(missing)
        )));
    }
    let kept: Map<String, Value> = map
        .into_iter()
        .filter(|(k, _)| k.starts_with('@') || names.iter().any(|n| n.eq_ignore_ascii_case(k)))
        .collect();
    Ok(Value::Object(kept))
}

fn parse_top(value: &str) -> Result<usize, GraphError> {
    match value.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n),
        _ => Err(GraphError::bad_request(format!(
            "Invalid page size specified: '{}'. Must be between 1 and {MAX_PAGE_SIZE} inclusive.",
            echo(value)
        ))),
    }
}

fn parse_select(value: &str) -> Result<Vec<String>, GraphError> {
    let names: Vec<String> = value
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect();
    if names.is_empty() || names.iter().any(|n| !is_identifier(n)) {
        return Err(GraphError::bad_request(format!(
            "Invalid $select clause '{}'.",
            echo(value)
        )));
    }
    Ok(names)
}

fn skiptoken(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("sandbox-page:{offset}"))
}

fn parse_skiptoken(value: &str) -> Result<usize, GraphError> {
    URL_SAFE_NO_PAD
        .decode(value.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix("sandbox-page:")?.parse::<usize>().ok())
        .filter(|offset| *offset <= MAX_OFFSET)
        .ok_or_else(|| GraphError::bad_request("The $skiptoken is not valid."))
}

/// `prop eq 'value'`, `prop eq <guid>` or `prop/any(x:x eq 'value')`.
fn parse_filter(text: &str) -> Result<Filter, GraphError> {
    parse_clause(text.trim()).ok_or_else(|| {
        GraphError::bad_request(format!(
            "Invalid filter clause: '{}'. The sandbox's Graph understands property eq 'value' and property/any(x:x eq 'value').",
            echo(text)
        ))
    })
}

fn parse_clause(text: &str) -> Option<Filter> {
    let (property, rest) = identifier(text)?;
    if let Some(rest) = rest.strip_prefix('/') {
        let rest = strip_word(rest.trim_start(), "any")?;
        let inner = rest.trim().strip_prefix('(')?.strip_suffix(')')?;
        let (var, rest) = identifier(inner.trim_start())?;
        let rest = rest.trim_start().strip_prefix(':')?;
        let (same, rest) = identifier(rest.trim_start())?;
        if var != same {
            return None;
        }
        return Some(Filter {
            form: Form::Any,
            property: property.to_string(),
            value: eq_literal(rest)?,
        });
    }
    Some(Filter {
        form: Form::Eq,
        property: property.to_string(),
        value: eq_literal(rest)?,
    })
}

/// ` eq 'value'` (or ` eq <guid>`): the value.
fn eq_literal(rest: &str) -> Option<String> {
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let rest = strip_word(rest.trim_start(), "eq")?;
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    literal(rest.trim())
}

/// A single-quoted string (`''` is a quote) that ends the text, or a bare GUID.
fn literal(text: &str) -> Option<String> {
    let Some(body) = text.strip_prefix('\'') else {
        return uuid::Uuid::parse_str(text).ok().map(|_| text.to_string());
    };
    let mut value = String::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            value.push(c);
        } else if chars.peek() == Some(&'\'') {
            chars.next();
            value.push('\'');
        } else {
            return chars.next().is_none().then_some(value);
        }
    }
    None
}

/// A leading identifier and the rest.
fn identifier(text: &str) -> Option<(&str, &str)> {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    (end > 0 && text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'))
        .then(|| text.split_at(end))
}

fn is_identifier(text: &str) -> bool {
    identifier(text).is_some_and(|(_, rest)| rest.is_empty())
}

/// `text` without a leading keyword (case-insensitive) that is a whole word.
fn strip_word<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let head = text.get(..word.len())?;
    let rest = &text[word.len()..];
    (head.eq_ignore_ascii_case(word)
        && !rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
    .then_some(rest)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn filter(text: &str) -> Option<Filter> {
        parse_clause(text)
    }

    #[test]
    fn both_filter_forms_parse_with_quotes_doubled() {
        assert_eq!(
            filter("identifierUris/any(x:x eq 'api://weather')"),
            Some(Filter {
                form: Form::Any,
                property: "identifierUris".into(),
                value: "api://weather".into()
            })
        );
        assert_eq!(
            filter("servicePrincipalNames/ANY( s : s EQ 'it''s' )").map(|f| f.value),
            Some("it's".into())
        );
        assert_eq!(
            filter("appId eq '6c6f687a-96c8-4280-bba3-d11cc0b19b67'").map(|f| f.form),
            Some(Form::Eq)
        );
        assert!(filter("resourceId eq 6c6f687a-96c8-4280-bba3-d11cc0b19b67").is_some());
        for bad in [
            "appId eq 'unterminated",
            "appId eq 'a' or appId eq 'b'",
            "appIdeq 'a'",
            "identifierUris/any(x:y eq 'a')",
            "startswith(displayName,'W')",
            "appId ne 'a'",
            "appId eq bare",
            "",
        ] {
            assert_eq!(filter(bad), None, "{bad}");
        }
    }

    #[test]
    fn filters_compare_case_insensitively_on_strings_and_arrays() {
        let object = json!({"appId": "ABC", "identifierUris": ["api://One", "api://two"]});
        let any = filter("identifierUris/any(x:x eq 'API://ONE')").expect("filter");
        assert!(any.matches(&object));
        assert!(filter("appid eq 'abc'").expect("filter").matches(&object));
        assert!(!filter("appId eq 'abd'").expect("filter").matches(&object));
        // `any` on a scalar, `eq` on an array: no match, not an error.
        assert!(
            !filter("appId/any(x:x eq 'ABC')")
                .expect("filter")
                .matches(&object)
        );
        let refused = filter("displayName eq 'x'")
            .expect("filter")
            .supported(&[(Form::Eq, "appId")], "Application")
            .expect_err("unsupported property");
        assert_eq!(refused.code, "BadRequest");
    }

    #[test]
    fn options_page_and_link_back_with_the_same_query() {
        let opts = Options::parse(Some(
            "%24filter=appId%20eq%20%27a%27&%24top=2&api-version=ignored",
        ))
        .expect("options");
        assert_eq!(opts.top, Some(2));
        let items: Vec<Value> = (0..5).map(|i| json!({ "n": i })).collect();
        let (page, next) = opts.page(items.clone(), 100, "http://h/graph/v1.0/applications");
        assert_eq!(page.len(), 2);
        let next = next.expect("a next link");
        assert!(
            next.starts_with("http://h/graph/v1.0/applications?"),
            "{next}"
        );
        let query = next.split_once('?').map(|(_, q)| q);
        let again = Options::parse(query).expect("the next link parses");
        assert_eq!((again.offset, again.top), (2, Some(2)));
        assert_eq!(again.filter, opts.filter);
        let (last, none) = Options { offset: 4, ..again }.page(items, 100, "http://h");
        assert_eq!((last.len(), none), (1, None));

        for bad in [
            "$top=0",
            "$top=1000",
            "$top=x",
            "$skiptoken=nope",
            "$count=true",
        ] {
            assert!(Options::parse(Some(bad)).is_err(), "{bad}");
        }
        assert!(Options::parse(Some(&"a".repeat(5000))).is_err());
    }

    #[test]
    fn select_keeps_named_properties_and_refuses_unknown_ones() {
        let object = json!({"@odata.context": "c", "id": "1", "appId": "2", "displayName": "d"});
        let kept = select(object.clone(), &["APPID".into()], "application").expect("select");
        assert_eq!(kept, json!({"@odata.context": "c", "appId": "2"}));
        let err = select(object, &["secretText".into()], "application").expect_err("unknown");
        assert!(err.message.contains("'secretText'"), "{}", err.message);
    }
}
