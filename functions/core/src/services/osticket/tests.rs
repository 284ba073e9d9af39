use super::*;

fn json(text: &str) -> Result<OsTicketRequest, ServiceError> {
    parse_json(text.as_bytes())
}

fn field_of(err: &ServiceError) -> &str {
    match err {
        ServiceError::Invalid { field, .. } => field,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

const MINIMAL: &str =
    r#"{"name":"Ann","email":"ann@example.org","subject":"Help","message":"It broke"}"#;

#[test]
fn a_minimal_json_ticket_takes_osticket_defaults() {
    let r = json(MINIMAL).unwrap();
    assert_eq!(r.name, "Ann");
    assert_eq!(r.email, "ann@example.org");
    assert_eq!(r.message, Message::Text("It broke".into()));
    assert_eq!(r.source, Source::Api);
    assert!(r.alert && r.autorespond);
    assert!(r.attachments.is_empty() && r.fields.is_empty());
    assert_eq!((r.topic_id, r.priority_id), (None, None));
}

#[test]
fn the_osticket_documentation_example_parses_whole() {
    let r = json(
        r#"{
        "alert": true, "autorespond": "false", "source": "API",
        "name": "Angry User", "email": "api@osticket.com", "phone": "3185558634X123",
        "subject": "Testing API", "ip": "123.211.233.122",
        "message": "data:text/html,MESSAGE <b>HERE</b>",
        "topicId": "2", "priority": 3, "department_code": "IT-7",
        "attachments": [
            {"file.txt": "data:text/plain;charset=utf-8,content"},
            {"image.png": "data:image/png;base64,R0lGODdhMAA="}
        ]
    }"#,
    )
    .unwrap();
    assert!(r.alert);
    assert!(!r.autorespond);
    assert_eq!(r.phone.as_deref(), Some("3185558634X123"));
    assert_eq!(r.message, Message::Html("MESSAGE <b>HERE</b>".into()));
    assert_eq!(r.topic_id, Some(2));
    assert_eq!(r.priority_id, Some(3));
    assert_eq!(r.ip.as_deref(), Some("123.211.233.122"));
    assert_eq!(
        r.fields.get("department_code").map(String::as_str),
        Some("IT-7")
    );
    assert_eq!(r.attachments.len(), 2);
    assert_eq!(r.attachments[0].name, "file.txt");
    assert_eq!(r.attachments[0].content_type, "text/plain");
    assert_eq!(r.attachments[0].bytes, b"content");
    assert_eq!(r.attachments[1].content_type, "image/png");
    assert_eq!(r.attachments[1].bytes, b"GIF87a0\x00");
}

#[test]
fn a_base64_message_with_a_charset_is_decoded() {
    let r = json(
        r#"{"name":"A","email":"a@b.org","subject":"S","message":"data:text/plain;charset=utf-8;base64,w4BsYQ=="}"#,
    )
    .unwrap();
    assert_eq!(r.message, Message::Text("Àla".into()));
    let r = json(
        r#"{"name":"A","email":"a@b.org","subject":"S","message":"data:text/plain;charset=iso-8859-1,%E0"}"#,
    )
    .unwrap();
    assert_eq!(r.message, Message::Text("à".into()));
}

#[test]
fn missing_required_fields_are_named() {
    for (payload, field) in [
        (r#"{"email":"a@b.org","subject":"S","message":"M"}"#, "name"),
        (r#"{"name":"A","subject":"S","message":"M"}"#, "email"),
        (r#"{"name":"A","email":"a@b.org","message":"M"}"#, "subject"),
        (r#"{"name":"A","email":"a@b.org","subject":"S"}"#, "message"),
        (
            r#"{"name":"A","email":"a@b.org","subject":"  ","message":"M"}"#,
            "subject",
        ),
        (
            r#"{"name":"A","email":"a@b.org","subject":"S","message":""}"#,
            "message",
        ),
    ] {
        assert_eq!(field_of(&json(payload).unwrap_err()), field, "{payload}");
    }
}

#[test]
fn bad_values_are_refused_with_the_field() {
    for (payload, field) in [
        (
            r#"{"name":"A","email":"not-an-address","subject":"S","message":"M"}"#,
            "email",
        ),
        (
            r#"{"name":"A","email":"a@b.org","subject":"S","message":"M","topicId":"two"}"#,
            "topicId",
        ),
        (
            r#"{"name":"A","email":"a@b.org","subject":"S","message":"M","alert":"maybe"}"#,
            "alert",
        ),
        (
            r#"{"name":"A","email":"a@b.org","subject":"S","message":"M","source":"Pigeon"}"#,
            "source",
        ),
        (
            r#"{"name":"A","email":"a@b.org","subject":"S","message":"M","ip":"x.y"}"#,
            "ip",
        ),
        (
            r#"{"name":"A","email":"a@b.org","subject":"S","message":"data:text/html;base64,@@@"}"#,
            "message",
        ),
        (
            r#"{"name":"A","email":"a@b.org","subject":"S","message":"data:nocomma"}"#,
            "message",
        ),
        (
            r#"{"name":"A","email":"a@b.org","subject":"S","message":"M","attachments":[{"f.txt":"plain text"}]}"#,
            "attachments",
        ),
        (
            r#"{"name":"A","email":"a@b.org","subject":"S","message":"M","attachments":{"f":"x"}}"#,
            "attachments",
        ),
        (
            r#"{"name":"A","email":"a@b.org","subject":"S","message":"M","custom":{"a":1}}"#,
            "custom",
        ),
        (r#"["not", "an", "object"]"#, "payload"),
        (r#"{"name": "#, "payload"),
    ] {
        assert_eq!(field_of(&json(payload).unwrap_err()), field, "{payload}");
    }
}

#[test]
fn oversized_subjects_and_messages_are_refused() {
    let long_subject = "s".repeat(MAX_SUBJECT_CHARS + 1);
    let payload =
        format!(r#"{{"name":"A","email":"a@b.org","subject":"{long_subject}","message":"M"}}"#);
    assert_eq!(field_of(&json(&payload).unwrap_err()), "subject");
    let ok_subject = "é".repeat(MAX_SUBJECT_CHARS);
    let payload =
        format!(r#"{{"name":"A","email":"a@b.org","subject":"{ok_subject}","message":"M"}}"#);
    assert!(
        json(&payload).is_ok(),
        "the limit counts characters, not bytes"
    );
    let long_body = "b".repeat(MAX_MESSAGE_BYTES + 1);
    let payload =
        format!(r#"{{"name":"A","email":"a@b.org","subject":"S","message":"{long_body}"}}"#);
    assert_eq!(field_of(&json(&payload).unwrap_err()), "message");
}

#[test]
fn e_mail_addresses_are_checked_for_shape() {
    for good in ["a@b.org", "first.last+tag@sub.example.ac.uk"] {
        assert!(valid_email(good), "{good}");
    }
    for bad in [
        "",
        "a",
        "a@b",
        "@b.org",
        "a@.org",
        "a@b.org.",
        "a b@c.org",
        "<a@b.org>",
        "a@b..org",
    ] {
        assert!(!valid_email(bad), "{bad}");
    }
}

#[test]
fn data_urls_follow_rfc_2397() {
    let d = parse_data_url("data:,A%20brief%20note").unwrap();
    assert_eq!(
        (d.media_type.as_str(), d.bytes.as_slice()),
        ("text/plain", &b"A brief note"[..])
    );
    let d = parse_data_url("DATA:Text/HTML;charset=UTF-8,<p>x</p>").unwrap();
    assert_eq!(d.media_type, "text/html");
    assert_eq!(d.charset.as_deref(), Some("utf-8"));
    let d = parse_data_url("data:application/pdf;base64,JVBE\n Rg").unwrap();
    assert_eq!(d.bytes, b"%PDF");
    for bad in [
        "text/plain,x",
        "data:text/plain",
        "data:bad type,x",
        "data:;base64,!!",
        "data:,%zz",
    ] {
        assert!(parse_data_url(bad).is_err(), "{bad}");
    }
    let d = parse_data_url("data:text/plain;charset=koi8-r,x").unwrap();
    assert!(d.text().is_err());
}

const XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ticket alert="false" autorespond="true" source="Phone">
    <name>Angry User</name>
    <email>api@osticket.com</email>
    <subject>Testing &amp; API</subject>
    <phone>318-555-8634X003</phone>
    <message type="text/html"><![CDATA[<p>Message content <b>here</b></p>]]></message>
    <attachments>
        <file name="file.txt" type="text/plain"><![CDATA[
            File content is here and is automatically trimmed
        ]]></file>
        <file name="image.gif" type="image/gif" encoding="base64">
            R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7
        </file>
    </attachments>
    <ip>123.211.233.122</ip>
    <topicId>1</topicId>
    <room>B-12</room>
</ticket>"#;

#[test]
fn the_osticket_xml_example_parses_whole() {
    let r = parse_xml(XML.as_bytes()).unwrap();
    assert_eq!(r.name, "Angry User");
    assert_eq!(r.subject, "Testing & API");
    assert_eq!(r.source, Source::Phone);
    assert!(!r.alert && r.autorespond);
    assert_eq!(
        r.message,
        Message::Html("<p>Message content <b>here</b></p>".into())
    );
    assert_eq!(r.topic_id, Some(1));
    assert_eq!(r.fields.get("room").map(String::as_str), Some("B-12"));
    assert_eq!(r.attachments.len(), 2);
    assert_eq!(
        r.attachments[0].bytes,
        b"File content is here and is automatically trimmed"
    );
    assert_eq!(r.attachments[1].content_type, "image/gif");
    assert!(r.attachments[1].bytes.starts_with(b"GIF89a"));
}

#[test]
fn malformed_or_hostile_xml_is_refused() {
    for bad in [
        "",
        "<ticket>",
        "<ticket><name>A</nom></ticket>",
        "<other><name>A</name></other>",
        r#"<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x "boom">]><ticket><name>&x;</name></ticket>"#,
        "<ticket><name>A</name></ticket><ticket/>",
        r#"<ticket><name>A</name><email>a@b.org</email><subject>S</subject><message>M</message><attachments><file type="text/plain">x</file></attachments></ticket>"#,
        r#"<ticket><name>A</name><email>a@b.org</email><subject>S</subject><message>M</message><attachments><file name="a" encoding="base64">@@</file></attachments></ticket>"#,
    ] {
        assert!(parse_xml(bad.as_bytes()).is_err(), "{bad}");
    }
}

#[test]
fn xml_messages_default_to_plain_text() {
    let r = parse_xml(
        b"<ticket><name>A</name><email>a@b.org</email><subject>S</subject><message>1 &lt; 2</message></ticket>",
    )
    .unwrap();
    assert_eq!(r.message, Message::Text("1 < 2".into()));
}
