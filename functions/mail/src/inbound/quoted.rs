//! Where the quoted history of a reply starts.
//!
//! Replies carry the conversation below (or, interleaved, around) what the
//! person just wrote. The thread should show the new part and fold the
//! rest, so these functions find the split point; they remove nothing
//! (`new + quoted` is always the input) and callers keep both parts.
//!
//! Recognised, in plain text and in the text of HTML bodies:
//!
//! - attribution lines, possibly wrapped over three lines: Gmail, Apple
//!   Mail and Thunderbird's "On ... wrote:", Spanish "El ... escribió:",
//!   Catalan "El ... va escriure:" / "El ... ha escrit:", and the French,
//!   German, Portuguese and Italian forms;
//! - Outlook's separators ("-----Original Message-----", "-----Mensaje
//!   original-----", "-----Missatge original-----", ...) and its header
//!   blocks ("From: ... Sent: ... To: ... Subject: ...", "De: ...
//!   Enviado: ... Para: ... Asunto: ...", "De: ... Enviat: ... Per a: ...
//!   Assumpte: ..."), with the rule line above them;
//! - a final block of `>`-quoted lines.
//!
//! In HTML, also the clients' own markup: Gmail's `gmail_quote`, Apple
//! Mail's `<blockquote type="cite">`, Thunderbird's `moz-cite-prefix`,
//! Outlook's `divRplyFwdMsg` and Yahoo's `yahoo_quoted`.
//!
//! Forwarded messages ("---------- Forwarded message ---------") are not
//! history: they are usually what the user wants the help desk to read.
//! Quoting interleaved with answers is left whole: an attribution or a
//! `>` block only counts when nothing but quoted lines follow it.

use taquilla_core::sanitize::{BLOCKS, decode_entities};

/// Splits a plain-text body into what is new and the quoted history.
/// `quoted` is empty when no history is found.
#[must_use]
pub fn split_quoted(text: &str) -> (&str, &str) {
    let mut lines = Vec::new();
    let mut starts = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        starts.push(offset);
        lines.push(line.trim_end_matches(['\n', '\r']));
        offset += line.len();
    }
    match quote_start(&lines) {
        Some(i) => text.split_at(starts[i]),
        None => (text, ""),
    }
}

/// Splits an HTML body into what is new and the quoted history, at a tag
/// boundary. The halves are not balanced HTML; sanitising each (as the core
/// does before display) closes what is open.
#[must_use]
pub fn split_quoted_html(html: &str) -> (&str, &str) {
    let structural = structural_start(html);
    let projection = project(html);
    let lines: Vec<&str> = projection.lines.iter().map(String::as_str).collect();
    let textual = quote_start(&lines).map(|i| walk_back(html, projection.starts[i]));
    let at = match (structural, textual) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    match at {
        Some(at) => html.split_at(at),
        None => (html, ""),
    }
}

// ---------------------------------------------------------------------
// Text rules, shared by both: a list of lines in, the first quoted line out.

/// Attribution openings, lower case.
const ATTRIBUTION_PREFIXES: &[&str] = &["on ", "el ", "le ", "am ", "em ", "il "];

/// Attribution endings, lower case.
const ATTRIBUTION_ENDINGS: &[&str] = &[
    "wrote:",
    "escribió:",
    "escribio:",
    "va escriure:",
    "ha escrit:",
    "a écrit :",
    "a écrit:",
    "escreveu:",
    "ha scritto:",
];

/// Outlook's "original message" separators, without the dashes.
const ORIGINAL_MESSAGE: &[&str] = &[
    "original message",
    "mensaje original",
    "missatge original",
    "message d'origine",
    "ursprüngliche nachricht",
    "messaggio originale",
    "mensagem original",
];

/// Lines that introduce a forwarded message, lower case, dashes removed.
const FORWARDED: &[&str] = &[
    "forwarded message",
    "begin forwarded message:",
    "mensaje reenviado",
    "missatge reenviat",
    "message transféré",
    "weitergeleitete nachricht",
];

const FROM_LABELS: &[&str] = &["from:", "de:", "de :", "von:", "da:"];
const SENT_LABELS: &[&str] = &[
    "sent:",
    "date:",
    "enviado:",
    "enviado el:",
    "fecha:",
    "enviat:",
    "enviat el:",
    "data:",
    "gesendet:",
    "envoyé :",
    "envoyé:",
    "inviato:",
];
const TO_OR_SUBJECT_LABELS: &[&str] = &[
    "to:",
    "para:",
    "per a:",
    "an:",
    "à :",
    "à:",
    "cc:",
    "subject:",
    "asunto:",
    "assumpte:",
    "betreff:",
    "objet :",
    "objet:",
    "oggetto:",
    "assunto:",
];

/// The index of the line where quoted history starts.
fn quote_start(lines: &[&str]) -> Option<usize> {
    let quoted: Vec<bool> = lines.iter().map(|l| is_quoted(l)).collect();
    // The last line with unquoted content: a quote block must come after it.
    let last_unquoted = (0..lines.len())
        .rev()
        .find(|&i| !quoted[i] && !is_blank(lines[i]));
    let quoted_after = |i: usize| quoted[i + 1..].iter().any(|&q| q);
    let only_quoted_after = |i: usize| last_unquoted.is_none_or(|u| u <= i);

    for i in 0..lines.len() {
        if is_blank(lines[i]) || quoted[i] && !only_quoted_after(i) {
            continue;
        }
        if quoted[i] {
            return Some(i);
        }
        if is_original_message_separator(lines[i]) {
            return Some(i);
        }
        if let Some(start) = header_block(lines, i) {
            return Some(start);
        }
        if let Some((end, text)) = attribution(lines, i) {
            let accepted = if quoted_after(end) {
                only_quoted_after(end)
            } else {
                // Without `>` lines below, only a dated attribution counts
                // ("On Monday Ana wrote:" may be the user's own prose).
                text.chars().any(|c| c.is_ascii_digit())
            };
            if accepted {
                return Some(i);
            }
        }
    }
    None
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

fn is_quoted(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

/// The next `n` non-blank lines after `i`.
fn next_lines<'a>(lines: &'a [&'a str], i: usize, n: usize) -> impl Iterator<Item = &'a str> + 'a {
    lines[i + 1..]
        .iter()
        .copied()
        .filter(|l| !is_blank(l))
        .take(n)
}

/// The nearest non-blank line above `i`, with its index.
fn previous_line<'a>(lines: &[&'a str], i: usize) -> Option<(usize, &'a str)> {
    (0..i)
        .rev()
        .find(|&j| !is_blank(lines[j]))
        .map(|j| (j, lines[j]))
}

/// "On ... wrote:" and its translations, starting at line `i` and wrapped
/// over at most three lines: the index of its last line and its text.
fn attribution(lines: &[&str], i: usize) -> Option<(usize, String)> {
    let first = lines[i].trim().to_lowercase();
    if !ATTRIBUTION_PREFIXES.iter().any(|p| first.starts_with(p)) {
        return None;
    }
    let mut text = first;
    let mut end = i;
    for _ in 0..3 {
        let german = text.starts_with("am ") && text.contains(" schrieb") && text.ends_with(':');
        if german || ATTRIBUTION_ENDINGS.iter().any(|e| text.ends_with(e)) {
            return Some((end, text));
        }
        match lines.get(end + 1) {
            Some(next) if !is_blank(next) && !is_quoted(next) && text.len() < 300 => {
                end += 1;
                text.push(' ');
                text.push_str(&next.trim().to_lowercase());
            }
            _ => return None,
        }
    }
    None
}

fn is_original_message_separator(line: &str) -> bool {
    let t = line.trim();
    t.starts_with("--") && {
        let inner = t.trim_matches(['-', ' ', '_']).to_lowercase();
        ORIGINAL_MESSAGE.contains(&inner.as_str())
    }
}

fn is_forward_marker(line: &str) -> bool {
    let inner = line.trim().trim_matches(['-', ' ', '_']).to_lowercase();
    FORWARDED
        .iter()
        .any(|f| inner == *f || inner.starts_with(f))
}

/// A rule line: Outlook's underscores or a row of dashes (not the `-- `
/// signature delimiter).
fn is_rule(line: &str) -> bool {
    let t = line.trim();
    t.len() >= 10 && t.chars().all(|c| c == '_' || c == '-')
}

fn has_label(line: &str, labels: &[&str]) -> bool {
    let l = line
        .trim_start()
        .trim_start_matches('*')
        .trim_start()
        .to_lowercase();
    labels.iter().any(|label| l.starts_with(label))
}

/// An Outlook header block starting at line `i` ("From:" then "Sent:" and
/// "To:"/"Subject:" within the next lines), not part of a forward: where
/// it starts, including the rule line above it.
fn header_block(lines: &[&str], i: usize) -> Option<usize> {
    if !has_label(lines[i], FROM_LABELS) {
        return None;
    }
    let sent = next_lines(lines, i, 4).any(|l| has_label(l, SENT_LABELS));
    let to_or_subject = next_lines(lines, i, 6).any(|l| has_label(l, TO_OR_SUBJECT_LABELS));
    if !(sent && to_or_subject) {
        return None;
    }
    match previous_line(lines, i) {
        Some((_, above)) if is_forward_marker(above) => None,
        Some((j, above)) if is_rule(above) => Some(j),
        _ => Some(i),
    }
}

// ---------------------------------------------------------------------
// HTML: the clients' markup, and the text rules on the text of the HTML.

/// The earliest quote container a known client marks up.
fn structural_start(html: &str) -> Option<usize> {
    for tag in Tags::new(html) {
        if tag.closing {
            continue;
        }
        let class_has = |token: &str| {
            attribute(tag.inner, "class").is_some_and(|c| {
                c.split_ascii_whitespace()
                    .any(|t| t.eq_ignore_ascii_case(token))
            })
        };
        let found = class_has("gmail_quote")
            || class_has("moz-cite-prefix")
            || class_has("yahoo_quoted")
            || tag.name == "blockquote"
                && attribute(tag.inner, "type").is_some_and(|t| t.eq_ignore_ascii_case("cite"))
            || attribute(tag.inner, "id")
                .is_some_and(|id| id.eq_ignore_ascii_case("divRplyFwdMsg"));
        if found {
            return Some(walk_back(html, tag.start));
        }
    }
    None
}

/// Moves `at` back over the opening and void tags (and whitespace) right
/// before it, so the split keeps a quote's wrappers (Outlook's `<hr>`, the
/// `<div>` of a separator line) with the quote. Stops at text, at a closing
/// tag and at a comment.
fn walk_back(html: &str, mut at: usize) -> usize {
    for _ in 0..32 {
        let before = html[..at].trim_end();
        if !before.ends_with('>') || before.ends_with("-->") {
            break;
        }
        let Some(lt) = before.rfind('<') else { break };
        let tag = &before[lt..];
        // The '>' may be text ("a -> b"): it must close the tag at `lt`.
        if tag_end(tag) != Some(tag.len()) {
            break;
        }
        if tag.starts_with("</")
            || tag.starts_with("<!")
            || !tag[1..].starts_with(|c: char| c.is_ascii_alphabetic())
        {
            break;
        }
        at = lt;
    }
    at
}

/// One tag of an HTML document.
struct Tag<'a> {
    start: usize,
    name: String,
    closing: bool,
    /// Between `<` and `>`.
    inner: &'a str,
}

/// The tags of a document in order, comments skipped, `>` inside quoted
/// attribute values respected.
struct Tags<'a> {
    html: &'a str,
    pos: usize,
}

impl<'a> Tags<'a> {
    fn new(html: &'a str) -> Self {
        Tags { html, pos: 0 }
    }
}

impl<'a> Iterator for Tags<'a> {
    type Item = Tag<'a>;

    fn next(&mut self) -> Option<Tag<'a>> {
        loop {
            let lt = self.pos + self.html[self.pos..].find('<')?;
            let rest = &self.html[lt..];
            if rest.starts_with("<!--") {
                self.pos = rest.find("-->").map_or(self.html.len(), |e| lt + e + 3);
                continue;
            }
            let Some(len) = tag_end(rest) else {
                // A '<' that opens no tag is text.
                self.pos = lt + 1;
                continue;
            };
            let end = lt + len;
            self.pos = end;
            let inner = &self.html[lt + 1..end - 1];
            let closing = inner.starts_with('/');
            let name: String = inner
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == ':')
                .collect::<String>()
                .to_ascii_lowercase();
            if name.is_empty() {
                continue;
            }
            return Some(Tag {
                start: lt,
                name,
                closing,
                inner,
            });
        }
    }
}

/// The length of the tag that starts `rest` (which starts with `<`),
/// through its `>`.
fn tag_end(rest: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in rest.char_indices().skip(1) {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i + 1),
            (None, '<') => return None,
            _ => {}
        }
    }
    None
}

/// The value of attribute `name` in a tag's inner text.
fn attribute<'a>(inner: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = inner.trim_start_matches('/');
    rest = rest.trim_start_matches(|c: char| !c.is_whitespace());
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return None;
        }
        let name_end = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .unwrap_or(rest.len());
        let attr = &rest[..name_end];
        rest = rest[name_end..].trim_start();
        let value = if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let (value, tail) = match after.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let close = after[1..].find(q).map_or(after.len(), |e| e + 1);
                    (&after[1..close], after.get(close + 1..).unwrap_or_default())
                }
                _ => {
                    let end = after.find(char::is_whitespace).unwrap_or(after.len());
                    (&after[..end], &after[end..])
                }
            };
            rest = tail;
            Some(value)
        } else {
            if rest.starts_with('/') {
                rest = &rest[1..];
            }
            None
        };
        if attr.eq_ignore_ascii_case(name) {
            return value;
        }
    }
}

/// Elements whose content is not text.
const SKIPPED: &[&str] = &["head", "style", "script", "title", "template"];

/// The text of an HTML document as non-blank lines, each with the offset
/// in the HTML of its first character.
struct Projection {
    lines: Vec<String>,
    starts: Vec<usize>,
}

fn project(html: &str) -> Projection {
    let mut out = Projection {
        lines: Vec::new(),
        starts: Vec::new(),
    };
    let mut line = String::new();
    let mut start: Option<usize> = None;
    let mut flush = |line: &mut String, start: &mut Option<usize>| {
        let text = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if let (false, Some(s)) = (text.is_empty(), *start) {
            out.lines.push(text);
            out.starts.push(s);
        }
        line.clear();
        *start = None;
    };
    let lower = html.to_ascii_lowercase();
    let mut i = 0;
    while i < html.len() {
        let rest = &html[i..];
        if rest.starts_with("<!--") {
            i = rest.find("-->").map_or(html.len(), |e| i + e + 3);
            continue;
        }
        if rest.starts_with('<')
            && rest[1..].starts_with(|c: char| c.is_ascii_alphabetic() || c == '/' || c == '!')
        {
            let Some(len) = tag_end(rest) else {
                // An unterminated '<' is text.
                line.push('<');
                start.get_or_insert(i);
                i += 1;
                continue;
            };
            let inner = &rest[1..len - 1];
            let closing = inner.starts_with('/');
            let name = inner
                .trim_start_matches('/')
                .split(|c: char| c.is_whitespace() || c == '/')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            i += len;
            if !closing && SKIPPED.contains(&name.as_str()) {
                let close = format!("</{name}");
                i = lower[i..].find(&close).map_or(html.len(), |e| i + e);
                continue;
            }
            if BLOCKS.contains(&name.as_str()) {
                flush(&mut line, &mut start);
            } else {
                line.push(' ');
            }
            continue;
        }
        let semi = rest
            .starts_with('&')
            .then(|| rest.bytes().take(12).position(|b| b == b';'))
            .flatten();
        if let Some(semi) = semi {
            let decoded = decode_entities(&rest[..=semi]);
            if decoded != rest[..=semi] {
                if !decoded.trim().is_empty() && decoded != "\u{a0}" {
                    start.get_or_insert(i);
                }
                line.push_str(&decoded);
                i += semi + 1;
                continue;
            }
        }
        let c = rest.chars().next().unwrap_or(' ');
        if !c.is_whitespace() {
            start.get_or_insert(i);
        }
        line.push(c);
        i += c.len_utf8();
    }
    flush(&mut line, &mut start);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_part(text: &str) -> &str {
        split_quoted(text).0.trim_end()
    }

    #[test]
    fn nothing_quoted_means_everything_is_new() {
        let text = "Hello,\nmy laptop does not start.\n\nAna";
        assert_eq!(split_quoted(text), (text, ""));
        assert_eq!(split_quoted(""), ("", ""));
    }

    #[test]
    fn the_split_loses_nothing() {
        let text = "Thanks!\r\n\r\nOn Mon, 1 Jan 2024 at 10:00, Help <help@example.org> wrote:\r\n> Hi\r\n";
        let (new, quoted) = split_quoted(text);
        assert_eq!(format!("{new}{quoted}"), text);
        assert!(quoted.starts_with("On Mon"));
    }

    #[test]
    fn wrapped_attributions_are_joined() {
        let text = "Yes.\n\nOn Mon, Jan 1, 2024 at 10:00 AM Help Desk <\nhelp@example.org> wrote:\n\n> Did it work?\n";
        assert_eq!(new_part(text), "Yes.");
    }

    #[test]
    fn undated_attributions_need_quoted_lines_below() {
        let prose = "On Monday my colleague wrote:\nthe printer is broken.\n";
        assert_eq!(split_quoted(prose).1, "");
        let quoted = "See below.\nOn Monday Ana wrote:\n> the printer is broken.\n";
        assert_eq!(new_part(quoted), "See below.");
    }

    #[test]
    fn interleaved_answers_are_left_whole() {
        let text = "On Mon, 1 Jan 2024, Ana wrote:\n> Question one?\nAnswer one.\n> Question two?\nAnswer two.\n";
        assert_eq!(split_quoted(text).1, "");
    }

    #[test]
    fn only_a_final_quote_block_counts() {
        let text = "Hi\n> quoted\nmore of mine\n\n> final quote\n>\n> end\n";
        assert_eq!(split_quoted(text).1, "> final quote\n>\n> end\n");
    }

    #[test]
    fn outlook_blocks_start_at_their_rule() {
        let text = "Done.\n\n________________________________\nFrom: Help <help@example.org>\nSent: Monday, January 1, 2024 10:00 AM\nTo: Ana\nSubject: RE: VPN\n\nOld text\n";
        assert!(split_quoted(text).1.starts_with("______"));
    }

    #[test]
    fn forwarded_messages_are_not_history() {
        let text = "Please look at this.\n\n---------- Forwarded message ---------\nFrom: Bank <b@example.com>\nDate: Mon, 1 Jan 2024\nSubject: Invoice\nTo: Ana\n\nPay now\n";
        assert_eq!(split_quoted(text).1, "");
    }

    #[test]
    fn a_lone_from_line_is_not_a_header_block() {
        let text = "From: the dean's office, I got no answer.\nCan you help?\n";
        assert_eq!(split_quoted(text).1, "");
    }

    #[test]
    fn attributes_are_read_quoted_or_not() {
        assert_eq!(
            attribute(r#"div class="gmail_quote x" id=q"#, "class"),
            Some("gmail_quote x")
        );
        assert_eq!(
            attribute(r#"div class="gmail_quote x" id=q"#, "id"),
            Some("q")
        );
        assert_eq!(attribute("blockquote type='cite'", "type"), Some("cite"));
        assert_eq!(attribute("br/", "class"), None);
        assert_eq!(attribute("input disabled class=a", "class"), Some("a"));
    }

    #[test]
    fn projection_maps_lines_to_offsets() {
        let html = "<p>Hola&nbsp;Ana</p><div>\n <b>De:</b> X</div>";
        let p = project(html);
        assert_eq!(p.lines, ["Hola Ana", "De: X"]);
        assert_eq!(&html[p.starts[0]..p.starts[0] + 4], "Hola");
        assert_eq!(
            &html[walk_back(html, p.starts[1])..],
            "<div>\n <b>De:</b> X</div>"
        );
    }

    #[test]
    fn stray_angle_brackets_are_text() {
        let html = "<p>if a < b and c -> d</p><div class=\"gmail_quote\">old</div>";
        assert_eq!(
            split_quoted_html(html).1,
            "<div class=\"gmail_quote\">old</div>"
        );
        let html = "<p>a -> b</p>\n<div>-----Original Message-----</div>";
        assert_eq!(
            split_quoted_html(html).1,
            "<div>-----Original Message-----</div>"
        );
    }

    #[test]
    fn html_without_history_is_all_new() {
        let html = "<div>Hello <blockquote>a real quote from a book</blockquote></div>";
        assert_eq!(split_quoted_html(html), (html, ""));
    }
}
