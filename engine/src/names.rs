//! The rules for names people choose, shared by every way of creating one (the settings
//! page, HTTP push, `trailsight ingest --trail`), so a trail made one way can be used and
//! shown every other way.

/// Why a trail name was refused; the message says what to use instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a valid trail name: use 1 to 128 letters, digits, periods, underscores or dashes.")]
pub struct InvalidTrailName(pub String);

/// A trail name is 1 to 128 ASCII letters, digits, periods, underscores or dashes: safe in
/// a URL path, a file name, a CSV cell and an ARN as it is.
pub fn check_trail_name(name: &str) -> Result<&str, InvalidTrailName> {
    let valid = (1..=128).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if valid {
        Ok(name)
    } else {
        Err(InvalidTrailName(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_digits_periods_underscores_and_dashes_only() {
        for good in ["prod", "a", "my-trail_2.0", &"x".repeat(128)] {
            assert_eq!(check_trail_name(good), Ok(good));
        }
        for bad in ["", " prod", "a/b", "a b", "<script>", "prod\n", "é", "../x", &"x".repeat(129)] {
            let e = check_trail_name(bad).unwrap_err();
            assert!(e.to_string().contains("1 to 128 letters, digits"), "{bad:?}: {e}");
        }
    }
}
