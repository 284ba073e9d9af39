//! The `Mailer` conformance suite against every adapter: `OutboxMailer` (a
//! fresh directory per test) and `SesMailer` (on the emulator, a fresh
//! verified sender domain per test; what was sent is read back from
//! `/moto-api/data.json`).

use std::sync::Arc;

use async_trait::async_trait;
use taquilla_core::mailer::{OutgoingMail, SentMail};
use taquilla_tests::mail_suite::{Delivered, MailTarget, MessageIds};

/// One `#[tokio::test]` per case, each on a fresh target from `$setup`.
macro_rules! mail_cases {
    ($setup:path; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let (target, _guard) = $setup().await;
                taquilla_tests::mail_suite::$case(&target).await;
            }
        )+
    };
}

macro_rules! all_mail_cases {
    ($setup:path) => {
        mail_cases!($setup;
            multipart_message_is_delivered_byte_for_byte,
            a_message_without_message_id_gets_one,
            each_message_gets_its_own_ids,
            invalid_messages_are_refused_and_not_sent,
        );
    };
}

mod outbox {
    use super::*;
    use taquilla_core::mailer::Mailer as _;
    use taquilla_local::OutboxMailer;
    use taquilla_local::outbox::{ENVELOPE_FROM, ENVELOPE_TO};
    use taquilla_tests::mail_suite::multipart_message;

    #[derive(Debug)]
    struct Files(OutboxMailer);

    #[async_trait]
    impl Delivered for Files {
        async fn recorded(&self, sent: &SentMail) -> OutgoingMail {
            let message = self.0.read(&sent.provider_id).await.unwrap();
            assert_eq!(message.message_id, sent.message_id);
            message.mail
        }

        async fn count(&self) -> usize {
            self.0.list().await.unwrap().len()
        }
    }

    pub async fn setup() -> (MailTarget, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let outbox = OutboxMailer::new(dir.path().join("outbox"));
        let target = MailTarget {
            mailer: Arc::new(outbox.clone()),
            delivered: Arc::new(Files(outbox)),
            sender: "help@example.org".to_owned(),
            message_ids: MessageIds::Kept,
        };
        (target, dir)
    }

    all_mail_cases!(setup);

    #[tokio::test]
    async fn the_file_is_the_envelope_fields_then_exactly_the_message() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = OutboxMailer::new(dir.path().to_path_buf());
        let raw = multipart_message("help@example.org", "ana@example.net", Some("<m1@x>"));
        let mail = OutgoingMail {
            from: "bounces@example.org".into(),
            recipients: vec!["ana@example.net".into(), "bcc@example.org".into()],
            raw: raw.clone(),
        };
        let sent = outbox.send(&mail).await.unwrap();
        assert_eq!(sent.message_id, "<m1@x>");
        assert!(sent.provider_id.ends_with(".eml"));
        let file = std::fs::read(dir.path().join(&sent.provider_id)).unwrap();
        let envelope = format!(
            "{ENVELOPE_FROM}: bounces@example.org\r\n\
             {ENVELOPE_TO}: ana@example.net\r\n\
             {ENVELOPE_TO}: bcc@example.org\r\n"
        );
        assert_eq!(file, [envelope.as_bytes(), &raw].concat());
    }

    #[tokio::test]
    async fn files_sort_in_sending_order_and_nothing_else_is_listed() {
        let (target, dir) = setup().await;
        let raw = multipart_message(&target.sender, "ana@example.net", None);
        let mail = OutgoingMail {
            from: target.sender.clone(),
            recipients: vec!["ana@example.net".into()],
            raw,
        };
        let mut sent = Vec::new();
        for _ in 0..5 {
            sent.push(target.mailer.send(&mail).await.unwrap().provider_id);
        }
        std::fs::write(dir.path().join("outbox/.leftover.tmp"), b"x").unwrap();
        std::fs::write(dir.path().join("outbox/notes.txt"), b"x").unwrap();
        let listed = OutboxMailer::new(dir.path().join("outbox"))
            .list()
            .await
            .unwrap();
        assert_eq!(listed, sent);
    }
}

mod ses {
    use super::*;
    use taquilla_aws::SesMailer;
    use taquilla_tests::moto;

    /// What the emulator recorded of raw `SendEmail` calls from one domain.
    #[derive(Debug)]
    struct MotoRecord {
        domain: String,
    }

    impl MotoRecord {
        async fn raw_messages(&self) -> Vec<serde_json::Value> {
            let url = format!("{}/moto-api/data.json", moto::moto().endpoint);
            let body = reqwest::get(url).await.unwrap().bytes().await.unwrap();
            let data: serde_json::Value = serde_json::from_slice(&body).unwrap();
            data["ses"]["RawMessage"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|m| {
                    m["source"]
                        .as_str()
                        .is_some_and(|s| s.ends_with(&format!("@{}", self.domain)))
                })
                .collect()
        }
    }

    #[async_trait]
    impl Delivered for MotoRecord {
        async fn recorded(&self, sent: &SentMail) -> OutgoingMail {
            let messages = self.raw_messages().await;
            let message = messages
                .iter()
                .find(|m| m["id"] == sent.provider_id.as_str())
                .unwrap_or_else(|| panic!("moto recorded no message {}", sent.provider_id));
            OutgoingMail {
                from: message["source"].as_str().unwrap().to_owned(),
                recipients: message["destinations"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d.as_str().unwrap().to_owned())
                    .collect(),
                raw: message["raw_data"].as_str().unwrap().as_bytes().to_vec(),
            }
        }

        async fn count(&self) -> usize {
            self.raw_messages().await.len()
        }
    }

    async fn client() -> aws_sdk_sesv2::Client {
        client_at(&moto::moto().endpoint).await
    }

    /// A client of the SES at `endpoint`, retrying quickly.
    async fn client_at(endpoint: &str) -> aws_sdk_sesv2::Client {
        let settings = taquilla_aws::AwsSettings {
            region: moto::REGION.to_owned(),
            endpoint_url: Some(endpoint.to_owned()),
            static_credentials: Some((
                moto::ACCESS_KEY_ID.to_owned(),
                moto::SECRET_ACCESS_KEY.to_owned(),
            )),
        };
        let config = taquilla_aws::sdk_config(&settings).await;
        aws_sdk_sesv2::Client::from_conf(
            aws_sdk_sesv2::config::Builder::from(&config)
                .retry_config(taquilla_aws::sdk::retry_config_with_backoff(
                    std::time::Duration::from_millis(1),
                    std::time::Duration::from_millis(5),
                ))
                .build(),
        )
    }

    /// A `SesMailer` allowed to send from a fresh domain.
    pub async fn setup() -> (MailTarget, ()) {
        let client = client().await;
        let domain = format!("{}.example.org", moto::unique_name("mail"));
        client
            .create_email_identity()
            .email_identity(&domain)
            .send()
            .await
            .unwrap();
        let target = MailTarget {
            mailer: Arc::new(SesMailer::new(client)),
            delivered: Arc::new(MotoRecord {
                domain: domain.clone(),
            }),
            sender: format!("help@{domain}"),
            message_ids: MessageIds::Replaced {
                domain: format!("{}.amazonses.com", moto::REGION),
            },
        };
        (target, ())
    }

    all_mail_cases!(setup);

    #[tokio::test]
    async fn an_unverified_sender_is_rejected_for_good() {
        use taquilla_core::mailer::{MailError, Mailer as _};
        use taquilla_tests::mail_suite::multipart_message;
        let mailer = SesMailer::new(client().await);
        let from = "help@unverified.example.org";
        let mail = OutgoingMail {
            from: from.to_owned(),
            recipients: vec!["ana@example.net".into()],
            raw: multipart_message(from, "ana@example.net", None),
        };
        let result = mailer.send(&mail).await;
        assert!(matches!(result, Err(MailError::Rejected(_))), "{result:?}");
    }

    #[tokio::test]
    async fn an_unreachable_ses_is_unavailable_and_retryable() {
        use taquilla_core::mailer::{MailError, Mailer as _};
        use taquilla_tests::mail_suite::multipart_message;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mailer = SesMailer::new(client_at(&format!("http://127.0.0.1:{port}")).await);
        let from = "help@example.org";
        let mail = OutgoingMail {
            from: from.to_owned(),
            recipients: vec!["ana@example.net".into()],
            raw: multipart_message(from, "ana@example.net", None),
        };
        let result = mailer.send(&mail).await;
        assert!(
            matches!(&result, Err(e @ MailError::Unavailable(_)) if e.is_retryable()),
            "{result:?}"
        );
    }
}
