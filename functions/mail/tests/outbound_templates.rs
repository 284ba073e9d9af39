//! Every built-in template in every language: it renders with a full set of
//! values and with none, leaves nothing unrendered, escapes what people
//! typed, and passes the same check an instance's own texts must pass.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use taquilla_core::domain::instance::Language;
use taquilla_core::sanitize::Body;
use taquilla_mail::outbound::registry::{self, VarKind};
use taquilla_mail::outbound::*;

const LANGUAGES: [Language; 3] = [Language::En, Language::Es, Language::Ca];

/// A user name that must be escaped in HTML and kept as is in text.
const TRICKY_NAME: &str = "Anna <b>Ribas</b> & Co";

fn attachments() -> Vec<AttachmentVars> {
    vec![
        AttachmentVars {
            name: "matrícula.pdf".into(),
            size: 48_213,
        },
        AttachmentVars {
            name: "horari.png".into(),
            size: 1_200_000,
        },
    ]
}

/// Every value a template may use, set.
fn full() -> Variables {
    Variables {
        instance: InstanceVars {
            name: "Servei de Gestió Acadèmica".into(),
            url: "https://tiquets.example.edu/academica/".into(),
        },
        recipient: PersonVars::new(TRICKY_NAME, "anna.ribas@example.edu"),
        ticket: Some(TicketVars {
            number: "AC-004815".into(),
            subject: "Canvi de grup & horari <urgent>".into(),
            status: "Obert".into(),
            priority: "Alta".into(),
            department: "Secretaria".into(),
            topic: Some("Matrícula".into()),
            due: Some("12/03/2026 14:00".into()),
            created: "10/03/2026 09:41".into(),
            link: Some("https://tiquets.example.edu/academica/t/AC-004815?k=USERKEY".into()),
            agent_link: Some("https://tiquets.example.edu/agents/academica/tickets/4815".into()),
            assignee: Some("Jordi Serra".into()),
            team: Some("Primer cicle".into()),
        }),
        user: Some(UserVars {
            name: TRICKY_NAME.into(),
            email: "anna.ribas@example.edu".into(),
            organisation: Some("Facultat de Ciències".into()),
        }),
        agent: Some(PersonVars::new("Jordi Serra", "jordi.serra@example.edu")),
        assignee: Some(PersonVars::new("Marta Vidal", "marta.vidal@example.edu")),
        team: Some(TeamVars {
            name: "Primer cicle".into(),
        }),
        message: Some(
            EntryVars::new(
                TRICKY_NAME,
                &Body::Html(
                    "<p>Bon dia,<br>voldria canviar de grup.</p><script>alert(1)</script>".into(),
                ),
            )
            .with_attachments(attachments()),
        ),
        response: Some(
            EntryVars::new(
                "Jordi Serra",
                &Body::Text("Hola Anna,\n\nJa t'hem canviat al grup B.".into()),
            )
            .with_attachments(attachments()),
        ),
        note: Some(
            EntryVars::stored(
                "Jordi Serra",
                "<p>Cal el vistiplau de la coordinació.</p>",
                "Cal el vistiplau de la coordinació.",
            )
            .with_title("Coordinació")
            .with_attachments(attachments()),
        ),
        transfer: Some(TransferVars {
            from_department: "Registre General".into(),
        }),
        task: Some(TaskVars {
            number: "T-0312".into(),
            title: "Demanar el certificat".into(),
            department: "Secretaria".into(),
            due: Some("14/03/2026 12:00".into()),
            ticket_number: Some("AC-004815".into()),
            agent_link: "https://tiquets.example.edu/agents/academica/tasks/312".into(),
            description_html: SafeHtml::clean("<p>Abans de <em>divendres</em>.</p>"),
            description_text: "Abans de divendres.".into(),
        }),
        limit: Some(LimitVars {
            open_tickets: 5,
            max_open_tickets: 5,
            subject: "Una altra consulta".into(),
        }),
        account: Some(AccountVars {
            username: "jserra".into(),
            link: "https://tiquets.example.edu/agents/password?t=SETUPTOKEN".into(),
            expires: "11/03/2026 09:41".into(),
        }),
        signature: Some("Secretaria de l'Escola\nEdifici C, planta 1".into()),
        rule: Some(RuleVars {
            name: "Beques urgents".into(),
            subject: "Beca pendent: AC-004815".into(),
            body_html: SafeHtml::from_text("La sol·licitud espera <resposta>."),
            body_text: "La sol·licitud espera <resposta>.".into(),
        }),
    }
}

fn assert_fully_rendered(what: &str, rendered: &Rendered) {
    for (part, text) in [
        ("subject", &rendered.subject),
        ("html", &rendered.html),
        ("text", &rendered.text),
    ] {
        assert!(!text.trim().is_empty(), "{what}: empty {part}");
        for marker in ["{{", "}}", "{%", "%}", "{#"] {
            assert!(
                !text.contains(marker),
                "{what}: {part} still holds {marker:?}:\n{text}"
            );
        }
    }
    assert!(
        rendered.refused.is_empty(),
        "{what}: {:?}",
        rendered.refused
    );
    assert!(
        !rendered.subject.contains('\n'),
        "{what}: subject on two lines"
    );
    assert!(rendered.html.starts_with("<!DOCTYPE html>"), "{what}");
    assert!(
        rendered.text.ends_with('\n') && !rendered.text.ends_with("\n\n"),
        "{what}"
    );
    assert!(
        !rendered.text.contains("\n\n\n"),
        "{what}: runs of blank lines"
    );
}

#[test]
fn every_template_renders_in_every_language_with_every_value() {
    let variables = full();
    for kind in TemplateKind::ALL {
        for language in LANGUAGES {
            let what = format!("{}/{kind}", language_tag(language));
            let rendered = render(kind, language, &TemplateTexts::default(), &variables)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_fully_rendered(&what, &rendered);
            assert!(
                rendered
                    .html
                    .contains(&format!("<html lang=\"{}\">", language_tag(language))),
                "{what}"
            );

            // What people typed is escaped in HTML, and kept as typed in text.
            assert!(
                !rendered.html.contains("<b>Ribas</b>"),
                "{what}: unescaped name"
            );
            assert!(
                !rendered.html.contains("<urgent>"),
                "{what}: unescaped subject"
            );
            assert!(
                !rendered.html.contains("<script>"),
                "{what}: script survived"
            );
            if rendered.text.contains("Ribas") {
                assert!(rendered.text.contains(TRICKY_NAME), "{what}");
            }

            // Magic links only reach their own audience.
            let user_key = "USERKEY";
            let agent_portal = "/agents/academica/";
            match kind.audience() {
                Audience::User => {
                    assert!(!rendered.html.contains(agent_portal), "{what}");
                    assert!(!rendered.text.contains(agent_portal), "{what}");
                }
                Audience::Agent => {
                    assert!(
                        !rendered.html.contains(user_key),
                        "{what}: user's key in agent mail"
                    );
                    assert!(
                        !rendered.text.contains(user_key),
                        "{what}: user's key in agent mail"
                    );
                }
            }
        }
    }
}

#[test]
fn the_main_values_of_each_mail_reach_it() {
    let variables = full();
    let expect: &[(TemplateKind, &[&str])] = &[
        (
            TemplateKind::NewTicketAutoresponse,
            &["AC-004815", "USERKEY", "voldria canviar de grup"],
        ),
        (
            TemplateKind::NewMessageAutoresponse,
            &["AC-004815", "USERKEY"],
        ),
        (TemplateKind::OverLimitNotice, &["Una altra consulta", "5"]),
        (
            TemplateKind::Response,
            &[
                "Ja t'hem canviat al grup B.",
                "matrícula.pdf",
                "Edifici C, planta 1",
            ],
        ),
        (TemplateKind::TicketClosed, &["AC-004815", "Jordi Serra"]),
        (
            TemplateKind::AlertNewTicket,
            &[
                "AC-004815",
                "anna.ribas@example.edu",
                "tickets/4815",
                "matrícula.pdf",
            ],
        ),
        (
            TemplateKind::AlertNewMessage,
            &["voldria canviar de grup", "tickets/4815"],
        ),
        (
            TemplateKind::AlertInternalNote,
            &["Coordinació", "Cal el vistiplau de la coordinació."],
        ),
        (
            TemplateKind::AlertAssignedAgent,
            &["Jordi Serra", "Cal el vistiplau"],
        ),
        (TemplateKind::AlertAssignedTeam, &["Primer cicle"]),
        (
            TemplateKind::AlertTransfer,
            &["Registre General", "Secretaria"],
        ),
        (TemplateKind::AlertOverdue, &["12/03/2026 14:00"]),
        (TemplateKind::AlertSlaWarning, &["12/03/2026 14:00"]),
        (
            TemplateKind::TaskAlertNew,
            &["T-0312", "Demanar el certificat", "tasks/312", "divendres"],
        ),
        (TemplateKind::TaskAlertAssigned, &["T-0312", "Marta Vidal"]),
        (TemplateKind::AgentWelcome, &["jserra", "SETUPTOKEN"]),
        (
            TemplateKind::PasswordReset,
            &["jserra", "SETUPTOKEN", "11/03/2026 09:41"],
        ),
        (
            TemplateKind::RuleMail,
            &[
                "La sol·licitud espera <resposta>.",
                "AC-004815",
                "Beques urgents",
                "tickets/4815",
            ],
        ),
    ];
    assert_eq!(expect.len(), TemplateKind::ALL.len());
    for (kind, needles) in expect {
        for language in LANGUAGES {
            let rendered = render(*kind, language, &TemplateTexts::default(), &variables).unwrap();
            for needle in *needles {
                assert!(
                    rendered.text.contains(needle),
                    "{}/{kind}: text lacks {needle:?}:\n{}",
                    language_tag(language),
                    rendered.text
                );
            }
        }
    }
    // The sanitised body goes into the HTML as HTML.
    let rendered = render(
        TemplateKind::AlertNewTicket,
        Language::En,
        &TemplateTexts::default(),
        &variables,
    )
    .unwrap();
    assert!(
        rendered
            .html
            .contains("<p>Bon dia,<br>voldria canviar de grup.</p>")
    );
    assert!(
        rendered
            .html
            .contains("Anna &lt;b&gt;Ribas&lt;&#x2F;b&gt; &amp; Co")
    );
}

#[test]
fn every_template_renders_with_nothing_but_the_instance() {
    let variables = Variables {
        instance: InstanceVars {
            name: "Servei d'Idiomes".into(),
            url: String::new(),
        },
        ..Variables::default()
    };
    for kind in TemplateKind::ALL {
        for language in LANGUAGES {
            let what = format!("{}/{kind}", language_tag(language));
            let rendered = render(kind, language, &TemplateTexts::default(), &variables)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_fully_rendered(&what, &rendered);
        }
    }
}

#[test]
fn missing_optional_values_leave_their_lines_out() {
    let mut variables = full();
    if let Some(ticket) = variables.ticket.as_mut() {
        ticket.topic = None;
        ticket.due = None;
        ticket.link = None;
    }
    let rendered = render(
        TemplateKind::NewTicketAutoresponse,
        Language::En,
        &TemplateTexts::default(),
        &variables,
    )
    .unwrap();
    assert!(!rendered.text.contains("Topic:"), "{}", rendered.text);
    assert!(
        !rendered.text.contains("View your request"),
        "{}",
        rendered.text
    );
    assert!(rendered.text.contains("Department: Secretaria"));
}

#[test]
fn every_builtin_template_passes_the_check_for_instance_texts() {
    for kind in TemplateKind::ALL {
        for language in LANGUAGES {
            let parts = TemplateTexts {
                subject: Some(builtin_text(kind, language, Part::Subject).to_owned()),
                html: Some(builtin_text(kind, language, Part::Html).to_owned()),
                text: Some(builtin_text(kind, language, Part::Text).to_owned()),
            };
            assert_eq!(
                validate_template(kind, &parts),
                Ok(()),
                "{}/{kind}",
                language_tag(language)
            );
        }
    }
}

#[test]
fn an_unknown_variable_is_refused_with_its_code_and_part() {
    let parts = TemplateTexts {
        text: Some("Hola {{ recipient.name }},\n{% if ticket.secret_key %}{{ ticket.secret_key }}{% endif %}".into()),
        ..TemplateTexts::default()
    };
    let error = validate_template(TemplateKind::Response, &parts).unwrap_err();
    assert_eq!(error.code(), "unknown_variable");
    assert_eq!(error.part(), Part::Text);
    assert_eq!(
        error,
        TemplateError::UnknownVariable {
            part: Part::Text,
            name: "ticket.secret_key".into()
        }
    );
    // The user's magic link does not exist for agent alerts.
    let parts = TemplateTexts {
        html: Some("<a href=\"{{ ticket.link }}\">open</a>".into()),
        ..TemplateTexts::default()
    };
    let error = validate_template(TemplateKind::AlertNewTicket, &parts).unwrap_err();
    assert_eq!(error.code(), "unknown_variable");
}

#[test]
fn an_instances_own_texts_are_used_part_by_part() {
    let own = TemplateTexts {
        subject: Some("Resposta a la vostra consulta {{ ticket.number }}".into()),
        html: Some(
            "<div class=\"own\">{{ response.body_html | safe }}<p>{{ user.name }}</p></div>".into(),
        ),
        text: None,
    };
    validate_template(TemplateKind::Response, &own).unwrap();
    let rendered = render(TemplateKind::Response, Language::Ca, &own, &full()).unwrap();
    assert_eq!(rendered.subject, "Resposta a la vostra consulta AC-004815");
    assert!(
        rendered
            .html
            .contains("<div class=\"own\"><p>Hola Anna,</p>")
    );
    assert!(rendered.html.contains("Anna &lt;b&gt;Ribas"));
    let builtin = render(
        TemplateKind::Response,
        Language::Ca,
        &TemplateTexts::default(),
        &full(),
    )
    .unwrap();
    assert_eq!(rendered.text, builtin.text, "no own text: the built-in one");
}

#[test]
fn the_registry_documents_every_variable_a_kind_can_use() {
    for kind in TemplateKind::ALL {
        let variables = registry::variables(kind);
        assert!(!variables.is_empty(), "{kind}");
        for variable in variables {
            assert!(!variable.description.is_empty(), "{}", variable.name);
            if variable.kind == VarKind::Html {
                assert!(variable.name.ends_with("_html"));
            }
        }
    }
}
