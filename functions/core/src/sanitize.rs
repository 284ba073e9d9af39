//! Message bodies: sanitised HTML for display, plain text for mail and search.
//!
//! Bodies arrive as plain text (mail, API) or HTML (portal editor, HTML mail).
//! Both are stored twice: as HTML cleaned by `ammonia` (no scripts, no event
//! handlers, no `javascript:` links) and as plain text.

/// A body, as it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Text(String),
    Html(String),
}

impl Body {
    /// The body's raw content, before any cleaning.
    #[must_use]
    pub fn raw(&self) -> &str {
        match self {
            Body::Text(s) | Body::Html(s) => s,
        }
    }

    /// The body as sanitised HTML and as plain text.
    #[must_use]
    pub fn render(&self) -> (String, String) {
        match self {
            Body::Text(text) => (text_to_html(text), text.trim().to_owned()),
            Body::Html(html) => {
                let clean = clean_html(html);
                let text = html_to_text(&clean);
                (clean, text)
            }
        }
    }
}

/// `html` with everything unsafe removed (ammonia's defaults: scripts,
/// styles, event handlers and dangerous URLs go; links get
/// `rel="noopener noreferrer"`).
#[must_use]
pub fn clean_html(html: &str) -> String {
    ammonia::clean(html)
}

/// Escapes `text` for HTML.
#[must_use]
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

/// Plain text as HTML: escaped, blank-line-separated paragraphs in `<p>`,
/// single line breaks as `<br>`.
#[must_use]
pub fn text_to_html(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let flush = |lines: &mut Vec<&str>, out: &mut String| {
        if !lines.is_empty() {
            let escaped: Vec<String> = lines.iter().map(|l| escape(l)).collect();
            out.push_str("<p>");
            out.push_str(&escaped.join("<br>"));
            out.push_str("</p>");
            lines.clear();
        }
    };
    for line in text.lines() {
        if line.trim().is_empty() {
            flush(&mut paragraph, &mut out);
        } else {
            paragraph.push(line.trim_end());
        }
    }
    flush(&mut paragraph, &mut out);
    out
}

/// Elements after which text continues on a new line.
pub const BLOCKS: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "tr",
    "table",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "hr",
    "section",
    "article",
    "header",
    "footer",
    "dd",
    "dt",
    "dl",
];

/// The text of `html`: tags stripped, block elements and `<br>` ending
/// lines, paragraphs separated by a blank line, entities
/// decoded, runs of spaces collapsed and at most one blank line in a row.
/// Meant for HTML that [`clean_html`] already cleaned (no script contents).
#[must_use]
pub fn html_to_text(html: &str) -> String {
    let mut raw = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        raw.push_str(&decode_entities(&rest[..lt]));
        let after = &rest[lt..];
        let Some(gt) = after.find('>') else {
            // A lone '<' is text.
            raw.push_str(&decode_entities(after));
            rest = "";
            break;
        };
        let tag = &after[1..gt];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        if name == "br" {
            raw.push('\n');
        } else if name == "p" && tag.starts_with('/') {
            // A paragraph ends with a blank line.
            raw.push_str("\n\n");
        } else if BLOCKS.contains(&name.as_str()) {
            if !raw.ends_with('\n') {
                raw.push('\n');
            }
        } else if name == "td" || name == "th" {
            raw.push(' ');
        }
        rest = &after[gt + 1..];
    }
    raw.push_str(&decode_entities(rest));
    tidy(&raw)
}

/// Collapses spaces within lines, trims lines, keeps at most one blank line.
fn tidy(raw: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in raw.lines() {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() && lines.last().is_none_or(String::is_empty) {
            continue;
        }
        lines.push(line);
    }
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines.join("\n")
}

/// Decodes character references: the common named ones and every numeric one.
/// Unknown or malformed references are kept as written.
#[must_use]
pub fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let decoded = after
            .find(';')
            .filter(|&semi| semi <= 10)
            .and_then(|semi| entity(&after[..semi]).map(|c| (c, semi)));
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse::<u32>().ok()?,
        };
        return char::from_u32(code).filter(|c| *c != '\0');
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "copy" => '©',
        "reg" => '®',
        "euro" => '€',
        "hellip" => '…',
        "mdash" => '—',
        "ndash" => '–',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "laquo" => '«',
        "raquo" => '»',
        "middot" => '·',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_handlers_are_removed() {
        let clean = clean_html(
            r#"<p onclick="x()">Hi<script>alert(1)</script></p><a href="javascript:x()">l</a>"#,
        );
        assert!(
            !clean.contains("script")
                && !clean.contains("onclick")
                && !clean.contains("javascript")
        );
        assert!(clean.contains("<p>Hi</p>"));
    }

    #[test]
    fn text_becomes_escaped_paragraphs() {
        assert_eq!(
            text_to_html("Hello <b>\r\nsecond line\n\n\nTom & Jerry"),
            "<p>Hello &lt;b&gt;<br>second line</p><p>Tom &amp; Jerry</p>"
        );
        assert_eq!(text_to_html("  \n "), "");
    }

    #[test]
    fn html_becomes_text_with_lines_and_entities() {
        assert_eq!(
            html_to_text(
                "<p>Hello&nbsp;<b>world</b> &amp; co</p><p>Line&#33; &#x41;</p><ul><li>a</li><li>b</li></ul>"
            ),
            "Hello world & co\n\nLine! A\n\na\nb"
        );
        assert_eq!(html_to_text("a<br>b<br/>c"), "a\nb\nc");
        assert_eq!(html_to_text("1 < 2 &bogus; &amp"), "1 < 2 &bogus; &amp");
        assert_eq!(html_to_text("<div>x</div>\n\n\n<div>y</div>"), "x\n\ny");
    }

    #[test]
    fn numeric_references_out_of_range_are_kept() {
        assert_eq!(
            decode_entities("&#0; &#x110000; &#65;"),
            "&#0; &#x110000; A"
        );
    }

    #[test]
    fn bodies_render_to_both_forms() {
        let (html, text) = Body::Html("<p>Hi <script>x</script>there</p>".into()).render();
        assert_eq!(html, "<p>Hi there</p>");
        assert_eq!(text, "Hi there");
        let (html, text) = Body::Text("a < b".into()).render();
        assert_eq!(html, "<p>a &lt; b</p>");
        assert_eq!(text, "a < b");
    }
}
