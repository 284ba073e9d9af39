//! Repairs for text that lied about its charset.
//!
//! Old and careless senders put raw 8-bit bytes where only ASCII may go
//! (header fields, file names) or label ISO-8859-1 text as UTF-8 or not at
//! all. Decoding such bytes as UTF-8 leaves U+FFFD where the letters were;
//! Windows-1252, a superset of ISO-8859-1's printable range, is what such
//! senders mean almost always, and every byte decodes.

use mail_parser::decoders::charsets::map::charset_decoder;

/// `bytes` decoded as Windows-1252.
pub(crate) fn windows_1252(bytes: &[u8]) -> String {
    match charset_decoder(b"windows-1252") {
        Some(decode) => decode(bytes),
        None => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// `bytes` as UTF-8 when they are, else as Windows-1252.
pub(crate) fn utf8_or_windows_1252(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => windows_1252(bytes),
    }
}

/// Whether a charset label means "UTF-8 or ASCII" (or there is none), the
/// labels under which mislabelled 8-bit text arrives.
pub(crate) fn claims_utf8(label: Option<&str>) -> bool {
    label.is_none_or(|l| {
        matches!(
            l.trim().to_ascii_lowercase().as_str(),
            "utf-8" | "utf8" | "us-ascii" | "ascii" | "ansi_x3.4-1968" | ""
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_bytes_become_letters() {
        assert_eq!(windows_1252(b"Fr\xf6sche \x80"), "Frösche €");
        assert_eq!(utf8_or_windows_1252("Frösche".as_bytes()), "Frösche");
        assert_eq!(utf8_or_windows_1252(b"Fr\xf6sche"), "Frösche");
    }

    #[test]
    fn only_utf8_and_ascii_labels_are_suspect() {
        assert!(claims_utf8(None));
        assert!(claims_utf8(Some("UTF-8")));
        assert!(claims_utf8(Some("us-ascii")));
        assert!(!claims_utf8(Some("iso-8859-1")));
        assert!(!claims_utf8(Some("shift_jis")));
    }
}
