//! Field rules shared by the configuration objects.

use crate::services::ServiceError;

/// Longest name of a configuration object, in characters.
pub const MAX_NAME_CHARS: usize = 120;

/// An `Invalid` error for `field`.
pub fn invalid(field: &str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// The trimmed name, if it is non-empty and not too long.
pub fn name(field: &str, value: &str) -> Result<String, ServiceError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if value.chars().count() > MAX_NAME_CHARS {
        return Err(invalid(
            field,
            format!("must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(value.to_owned())
}

/// The lower-cased address, if it looks like one: a local part, one `@`, a
/// domain with a dot, no spaces, at most 254 characters.
pub fn email(field: &str, value: &str) -> Result<String, ServiceError> {
    let value = value.trim().to_lowercase();
    let ok = value.len() <= 254
        && !value.chars().any(char::is_whitespace)
        && value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if ok {
        Ok(value)
    } else {
        Err(invalid(
            field,
            format!("{value:?} is not an e-mail address"),
        ))
    }
}

/// A ticket-number format (trimmed) that numbers can be rendered from
/// (`crate::domain::number`); refused with `[bad_number_format]` and the
/// reason otherwise, when it is saved rather than when a ticket is opened.
pub fn number_format(field: &str, value: &str) -> Result<String, ServiceError> {
    let value = value.trim();
    match crate::domain::number::NumberFormat::parse(value) {
        Ok(_) => Ok(value.to_owned()),
        Err(e) => Err(invalid(field, format!("{e} [bad_number_format]"))),
    }
}

/// Refuses a parent link that would make `id` its own ancestor
/// (`[parent_cycle]`): follows `parent_of` up from `parent`, which must
/// exist (`[parent_unknown]`).
pub fn parent<F>(
    field: &str,
    id: Option<u32>,
    parent: u32,
    parent_of: F,
) -> Result<(), ServiceError>
where
    F: Fn(u32) -> Option<Option<u32>>,
{
    let mut at = parent;
    let mut steps = 0usize;
    loop {
        if Some(at) == id {
            return Err(invalid(
                field,
                format!("{parent} would make a cycle [parent_cycle]"),
            ));
        }
        match parent_of(at) {
            None if at == parent => {
                return Err(invalid(
                    field,
                    format!("{parent} does not exist [parent_unknown]"),
                ));
            }
            // A dangling link higher up ends the chain.
            None | Some(None) => return Ok(()),
            Some(Some(up)) => at = up,
        }
        steps += 1;
        if steps > 10_000 {
            return Err(invalid(field, "the parent chain is too deep"));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn names_are_trimmed_and_must_not_be_empty() {
        assert_eq!(name("name", "  IT  ").unwrap(), "IT");
        assert!(name("name", "   ").is_err());
        assert!(name("name", &"x".repeat(121)).is_err());
    }

    #[test]
    fn emails_must_look_like_addresses() {
        assert_eq!(email("email", " A@X.org ").unwrap(), "a@x.org");
        for bad in [
            "",
            "a",
            "a@b",
            "@x.org",
            "a@@x.org",
            "a b@x.org",
            "a@x.org.",
        ] {
            assert!(email("email", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parents_must_exist_and_not_make_cycles() {
        // 1 <- 2 <- 3 (3's parent is 2, 2's parent is 1).
        let parents = BTreeMap::from([(1, None), (2, Some(1)), (3, Some(2))]);
        let of = |id| parents.get(&id).copied();
        assert!(parent("parent", Some(4), 3, of).is_ok());
        assert!(
            parent("parent", Some(1), 3, of).is_err(),
            "1 -> 3 -> 2 -> 1"
        );
        assert!(parent("parent", Some(1), 1, of).is_err(), "itself");
        assert!(parent("parent", None, 9, of).is_err(), "missing");
    }
}
