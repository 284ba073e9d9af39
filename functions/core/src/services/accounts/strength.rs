//! What a password an agent chooses must be. Following NIST SP 800-63B:
//! long enough, not absurdly long, not one of the passwords every attacker
//! tries first, not made of the account's own name; no composition rules
//! (they make passwords harder to remember, not to guess).

use crate::services::ServiceError;

/// Fewest characters.
pub const MIN_CHARS: usize = 10;
/// Most characters (hashing is deliberately slow; a password is not a file).
pub const MAX_CHARS: usize = 128;
/// Fewest different characters (`aaaaaaaaaa` is no password).
const MIN_DISTINCT: usize = 5;

/// Passwords of at least [`MIN_CHARS`] that lists of leaked passwords put
/// first, lower case.
const COMMON: &[&str] = &[
    "1234567890",
    "0123456789",
    "0987654321",
    "12345678910",
    "123456789a",
    "1q2w3e4r5t",
    "1qaz2wsx3edc",
    "qwertyuiop",
    "qwerty1234",
    "qwerty12345",
    "asdfghjkl1",
    "password12",
    "password123",
    "password1234",
    "passw0rd123",
    "iloveyou12",
    "administrator",
    "abcdefghij",
    "abcd123456",
    "letmein123",
    "welcome123",
    "changeme123",
    "contrasenya",
    "contraseña1",
    "contrasenya1",
];

/// The rules that need nothing but the password: length, variety, not a
/// common one. The reason when it fails.
pub fn check(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(format!("it must have at least {MIN_CHARS} characters"));
    }
    if chars > MAX_CHARS {
        return Err(format!("it must have at most {MAX_CHARS} characters"));
    }
    let mut distinct: Vec<char> = password.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < MIN_DISTINCT {
        return Err(format!(
            "it must use at least {MIN_DISTINCT} different characters"
        ));
    }
    let folded = password.to_lowercase();
    if COMMON.contains(&folded.as_str()) {
        return Err("it is one of the passwords tried first by attackers".into());
    }
    Ok(())
}

/// The rules about the account: the password does not contain the
/// address's local part or a word of the name (of four characters or more).
pub fn check_for(password: &str, email: &str, name: &str) -> Result<(), String> {
    check(password)?;
    let folded = password.to_lowercase();
    let local = email.split('@').next().unwrap_or_default().to_lowercase();
    let names = name.split_whitespace().map(str::to_lowercase);
    let personal = std::iter::once(local)
        .chain(names)
        .filter(|word| word.chars().count() >= 4);
    for word in personal {
        if folded.contains(&word) {
            return Err("it must not contain your name or your address".into());
        }
    }
    Ok(())
}

/// The error for a password a rule refuses.
#[must_use]
pub fn weak(reason: String) -> ServiceError {
    ServiceError::Rejected {
        code: "weak_password",
        message: format!("the password is too weak: {reason}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_long_monotonous_and_common_passwords_are_refused() {
        assert!(check("correct horse battery").is_ok());
        assert!(check("nine char").is_err());
        assert!(check(&"ab1".repeat(43)).is_err(), "129 characters");
        assert!(check(&"abcdefgh".repeat(16)).is_ok(), "128 characters");
        assert!(check("aaaaabbbbbaaaa").is_err());
        assert!(check("Password123").is_err());
        assert!(check("QWERTYUIOP").is_err());
        // Characters, not bytes: ten accented letters are ten.
        assert!(check("àéíòúçñüïè").is_ok());
    }

    #[test]
    fn a_password_must_not_hold_the_accounts_name_or_address() {
        let (email, name) = ("jserra@uni.example", "Joan Serra");
        assert!(check_for("violet-kettle-42", email, name).is_ok());
        assert!(check_for("jserra-2026!", email, name).is_err());
        assert!(check_for("my name is SERRA ok", email, name).is_err());
        // Short words of a name are too common to refuse.
        assert!(check_for("joaquim de la vall", "jo@x.org", "Jo de Vall").is_err());
        assert!(check_for("the sea is de ep", "jo@x.org", "Jo de").is_ok());
        assert!(check_for("short", email, name).is_err());
    }
}
