//! Small HTML helpers shared by the form and layout generators.

use std::collections::HashSet;

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A readable label from a property name: `firstName` and `first_name` both
/// become `First name`.
pub fn humanize(name: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if c == '_' || c == '-' || c == ' ' || c == '.' {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        current.push(c);
    }
    if !current.is_empty() {
        words.push(current);
    }
    let mut label = String::new();
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            label.push(' ');
        }
        let all_caps = word.chars().count() > 1 && word.chars().all(|c| !c.is_lowercase());
        if i == 0 {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                label.extend(first.to_uppercase());
                if all_caps {
                    label.push_str(chars.as_str());
                } else {
                    label.push_str(&chars.as_str().to_lowercase());
                }
            }
        } else if all_caps {
            label.push_str(word);
        } else {
            label.push_str(&word.to_lowercase());
        }
    }
    if label.is_empty() { name.to_string() } else { label }
}

/// Allocates element ids that are valid (letters, digits, `-`, `_`) and unique
/// within one document.
#[derive(Default)]
pub struct Ids {
    used: HashSet<String>,
}

impl Ids {
    /// An id made from `parts`, with `-2`, `-3`, … appended when taken.
    pub fn make(&mut self, parts: &[&str]) -> String {
        let mut base = String::new();
        for part in parts {
            let slug = slug(part);
            if slug.is_empty() {
                continue;
            }
            if !base.is_empty() {
                base.push('-');
            }
            base.push_str(&slug);
        }
        if base.is_empty() || !base.starts_with(|c: char| c.is_ascii_alphabetic()) {
            base.insert_str(0, "id-");
        }
        let mut id = base.clone();
        let mut n = 2;
        while self.used.contains(&id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        self.used.insert(id.clone());
        id
    }

    /// How many ids were handed out.
    pub fn count(&self) -> usize {
        self.used.len()
    }
}

/// Lowercase ASCII letters and digits, other runs of characters as one `-`.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape(r#"<a href="x">&'"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }

    #[test]
    fn humanizes_names() {
        assert_eq!(humanize("firstName"), "First name");
        assert_eq!(humanize("postal_code"), "Postal code");
        assert_eq!(humanize("apiURL"), "Api URL");
        assert_eq!(humanize("age"), "Age");
    }

    #[test]
    fn ids_are_unique() {
        let mut ids = Ids::default();
        assert_eq!(ids.make(&["f", "Address", "street"]), "f-address-street");
        assert_eq!(ids.make(&["f", "address.street"]), "f-address-street-2");
        assert_eq!(ids.make(&["1x"]), "id-1x");
        assert_eq!(ids.count(), 3);
    }
}
