//! Exact comparison made visible: two strings with the run where they differ marked «…»,
//! as Entra compares federated issuers, subjects and audiences (case-sensitively, character
//! for character).
//!
//! Text only; knows nothing of what is compared.

/// `a` and `b` with the characters between their common prefix and common suffix marked:
/// `system:serviceaccount:Weather:api` / `system:serviceaccount:weather:api` →
/// `system:serviceaccount:«W»eather:api` / `system:serviceaccount:«w»eather:api`. An empty
/// run (one string has extra characters the other lacks) is marked `«»`. Equal strings come
/// back unmarked.
pub fn mark_difference(a: &str, b: &str) -> (String, String) {
    if a == b {
        return (a.to_string(), b.to_string());
    }
    let (ca, cb): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let prefix = ca.iter().zip(&cb).take_while(|(x, y)| x == y).count();
    let room = ca.len().min(cb.len()) - prefix;
    let suffix = ca
        .iter()
        .rev()
        .zip(cb.iter().rev())
        .take(room)
        .take_while(|(x, y)| x == y)
        .count();
    let mark = |c: &[char]| {
        let (head, rest) = c.split_at(prefix);
        let (mid, tail) = rest.split_at(rest.len() - suffix);
        format!(
            "{}«{}»{}",
            head.iter().collect::<String>(),
            mid.iter().collect::<String>(),
            tail.iter().collect::<String>()
        )
    };
    (mark(&ca), mark(&cb))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_differing_run_is_marked() {
        assert_eq!(
            mark_difference(
                "system:serviceaccount:Weather:api",
                "system:serviceaccount:weather:api"
            ),
            (
                "system:serviceaccount:«W»eather:api".to_string(),
                "system:serviceaccount:«w»eather:api".to_string()
            )
        );
        assert_eq!(
            mark_difference("https://issuer/", "https://issuer"),
            (
                "https://issuer«/»".to_string(),
                "https://issuer«»".to_string()
            )
        );
        assert_eq!(
            mark_difference("ns:A:B", "ns:a:b"),
            ("ns:«A:B»".to_string(), "ns:«a:b»".to_string())
        );
        // A repeated character is not counted twice (prefix and suffix never overlap).
        assert_eq!(
            mark_difference("aa", "aaa"),
            ("aa«»".to_string(), "aa«a»".to_string())
        );
        assert_eq!(mark_difference("x", "x"), ("x".into(), "x".into()));
        assert_eq!(
            mark_difference("é", "è"),
            ("«é»".to_string(), "«è»".to_string())
        );
    }
}
