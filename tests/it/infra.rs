//! `infra/template.yaml`, the deployment template, against the code:
//! cfn-lint finds nothing in it; its functions are exactly the binaries of
//! `functions/lambda/src/bin`; its table is the code's table
//! (`infra/dynamodb-table.json`, itself checked against
//! `store::schema::TABLE`) with every attribute and index of `TABLE`; the
//! environment variables it sets are exactly the ones the functions read
//! (`taquilla_lambda::config::DEPLOYED`), each accepted by the functions'
//! configuration, and every function gets what it needs to start.
//!
//! `scripts/deploy_template.py` (what `make deploy` deploys) points every
//! function at its zip and still lints clean, and `scripts/deploy.sh`
//! without credentials stops before building anything, saying why.
//!
//! The template is read with cfn-lint's own decoder (which understands
//! `!Ref` and the other short forms), from the Python the emulator runs on.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use taquilla_core::store::schema::TABLE;
use taquilla_lambda::config::{self, DEPLOYED, INBOUND_BUCKET};
use taquilla_tests::moto;

fn template_path() -> PathBuf {
    moto::workspace_root().join("infra/template.yaml")
}

fn python(script: &str, arg: &str) -> std::process::Output {
    let python = moto::python_path();
    assert!(
        python.exists(),
        "cfn-lint is not installed ({} is missing): run `make deps`",
        python.display()
    );
    Command::new(&python)
        .arg("-c")
        .arg(script)
        .arg(arg)
        .output()
        .expect("run Python")
}

/// The template as JSON, short forms spelt out (`{"Ref": ..}`).
fn template() -> Value {
    let out = python(
        "import json, sys, cfnlint.decode as d\n\
         t, errors = d.decode(sys.argv[1])\n\
         if errors: sys.exit('\\n'.join(str(e) for e in errors))\n\
         print(json.dumps(t))",
        &template_path().to_string_lossy(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The resources of type `kind`, by logical id.
fn resources<'a>(t: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    t["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == kind)
        .map(|(id, r)| (id.as_str(), r))
        .collect()
}

/// The names of the variables in an `Environment.Variables` object.
fn names(vars: &Value) -> BTreeSet<String> {
    vars.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn cfn_lint_finds_nothing_in_the_template() {
    let out = python(
        "import sys\n\
         from cfnlint.runner import main\n\
         sys.argv = ['cfn-lint', sys.argv[1]]\n\
         sys.exit(main())",
        &template_path().to_string_lossy(),
    );
    assert!(
        out.status.success(),
        "cfn-lint:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_templates_functions_are_the_lambda_binaries() {
    let t = template();
    let in_template: BTreeSet<String> = resources(&t, "AWS::Serverless::Function")
        .into_iter()
        .map(|(id, f)| {
            assert_eq!(f["Metadata"]["BuildMethod"], "rust-cargolambda", "{id}");
            f["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .unwrap_or_else(|| panic!("{id} names no binary"))
                .to_owned()
        })
        .collect();
    let bins = moto::workspace_root().join("functions/lambda/src/bin");
    let binaries: BTreeSet<String> = std::fs::read_dir(&bins)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(!binaries.is_empty());
    assert_eq!(in_template, binaries);

    // cfn-lint accepts any runtime name: ours is the OS-only runtime
    // running the `bootstrap` executable cargo-lambda builds.
    let globals = &t["Globals"]["Function"];
    assert_eq!(globals["Runtime"], "provided.al2023");
    assert_eq!(globals["Handler"], "bootstrap");
    for (id, f) in resources(&t, "AWS::Serverless::Function") {
        assert!(f["Properties"].get("Runtime").is_none(), "{id}");
        assert!(f["Properties"].get("Handler").is_none(), "{id}");
    }
    assert_eq!(
        t["Parameters"]["Architecture"]["AllowedValues"],
        serde_json::json!(["arm64", "x86_64"])
    );
}

#[test]
fn the_templates_table_is_the_codes_table() {
    let t = template();
    let tables = resources(&t, "AWS::DynamoDB::Table");
    assert_eq!(tables.len(), 1, "one table");
    let (_, table) = tables[0];
    assert_eq!(table["DeletionPolicy"], "Retain");
    let props = table["Properties"].as_object().unwrap();
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(moto::workspace_root().join("infra/dynamodb-table.json")).unwrap(),
    )
    .unwrap();
    // Everything of the code's definition, as it is; beside it only what
    // the code does not decide.
    for (key, value) in committed.as_object().unwrap() {
        assert_eq!(props.get(key), Some(value), "Table.Properties.{key}");
    }
    for key in props.keys() {
        assert!(
            committed.get(key).is_some() || ["SSESpecification", "Tags"].contains(&key.as_str()),
            "Table.Properties.{key} is not in the code's definition"
        );
    }
    assert_eq!(
        props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(props["DeletionProtectionEnabled"], true);

    // And the other way round, from TABLE itself.
    let attributes: BTreeSet<&str> = props["AttributeDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["AttributeName"].as_str().unwrap())
        .collect();
    let mut expected: BTreeSet<&str> = [TABLE.pk, TABLE.sk].into();
    for index in TABLE.indexes {
        expected.extend([index.pk, index.sk]);
    }
    assert_eq!(attributes, expected);
    let indexes: BTreeSet<(&str, &str, &str)> = props["GlobalSecondaryIndexes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let key = |kind: &str| {
                i["KeySchema"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|k| k["KeyType"] == kind)
                    .map(|k| k["AttributeName"].as_str().unwrap())
                    .unwrap()
            };
            (i["IndexName"].as_str().unwrap(), key("HASH"), key("RANGE"))
        })
        .collect();
    let expected: BTreeSet<(&str, &str, &str)> =
        TABLE.indexes.iter().map(|i| (i.name, i.pk, i.sk)).collect();
    assert_eq!(indexes, expected);
    assert_eq!(props["TimeToLiveSpecification"]["AttributeName"], TABLE.ttl);
}

#[test]
fn the_templates_variables_are_the_ones_the_functions_read() {
    let t = template();
    let global = names(&t["Globals"]["Function"]["Environment"]["Variables"]);
    let mut all = global.clone();
    for (id, function) in resources(&t, "AWS::Serverless::Function") {
        let own = names(&function["Properties"]["Environment"]["Variables"]);
        let vars: BTreeSet<String> = global.union(&own).cloned().collect();
        // The function's configuration starts with these (placeholder
        // values of the right form) and knows every one of them.
        let mut env: Vec<(String, String)> = vars
            .iter()
            .map(|name| {
                let value = match name.as_str() {
                    "TAQUILLA_STORE" => "dynamodb://table",
                    "TAQUILLA_BLOBS" => "s3://bucket/attachments",
                    "TAQUILLA_MAIL" => "ses://eu-west-1",
                    "TAQUILLA_PUBLIC_URL" => "https://help.example.edu",
                    config::MASTER_KEY => &"ab".repeat(32),
                    _ => "x",
                };
                (name.clone(), value.to_owned())
            })
            .collect();
        env.sort();
        let config = config::from_env(env).unwrap_or_else(|e| panic!("{id} would not start: {e}"));
        assert!(config.unknown.is_empty(), "{id}: {:?}", config.unknown);
        if function["Metadata"]["BuildProperties"]["Binary"] == "inbound-mail" {
            assert!(own.contains(INBOUND_BUCKET), "{id} needs {INBOUND_BUCKET}");
        }
        all.extend(own);
    }
    let deployed: BTreeSet<String> = DEPLOYED.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(
        all, deployed,
        "the template's variables and config::DEPLOYED"
    );
}

#[test]
fn the_mail_feedback_function_hears_the_topic_ses_reports_to() {
    let t = template();
    let destinations = resources(&t, "AWS::SES::ConfigurationSetEventDestination");
    assert_eq!(destinations.len(), 1);
    let destination = &destinations[0].1["Properties"]["EventDestination"];
    let types: BTreeSet<&str> = destination["MatchingEventTypes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(types, ["bounce", "complaint"].into());
    let topic = &destination["SnsDestination"]["TopicARN"];

    let (id, function) = resources(&t, "AWS::Serverless::Function")
        .into_iter()
        .find(|(_, f)| f["Metadata"]["BuildProperties"]["Binary"] == "mail-feedback")
        .expect("the mail-feedback function");
    let subscriptions: Vec<&Value> = function["Properties"]["Events"]
        .as_object()
        .unwrap()
        .values()
        .filter(|e| e["Type"] == "SNS")
        .map(|e| &e["Properties"]["Topic"])
        .collect();
    assert_eq!(subscriptions, [topic], "{id}");
    // Failed notifications are kept, as the other asynchronous functions'.
    assert!(
        function["Properties"]["EventInvokeConfig"]["DestinationConfig"]["OnFailure"].is_object(),
        "{id}"
    );
}

#[test]
fn the_deployment_template_points_every_function_at_its_zip() {
    let dir = tempfile::tempdir().unwrap();
    let t = template();
    let binaries: Vec<String> = resources(&t, "AWS::Serverless::Function")
        .into_iter()
        .map(|(_, f)| {
            f["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    for binary in &binaries {
        std::fs::create_dir_all(dir.path().join(binary)).unwrap();
        std::fs::write(dir.path().join(binary).join("bootstrap.zip"), b"zip").unwrap();
    }
    let script = moto::workspace_root().join("scripts/deploy_template.py");
    let out = Command::new(moto::python_path())
        .arg(&script)
        .arg(template_path())
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deployed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(deployed["Globals"]["Function"].get("CodeUri").is_none());
    let functions = resources(&deployed, "AWS::Serverless::Function");
    assert_eq!(functions.len(), binaries.len());
    for (id, f) in functions {
        assert!(f.get("Metadata").is_none(), "{id} would be built again");
        let code = f["Properties"]["CodeUri"].as_str().unwrap();
        assert!(
            code.ends_with("/bootstrap.zip") && std::path::Path::new(code).is_file(),
            "{id}: {code}"
        );
    }
    // It is a template CloudFormation takes, as the source is.
    let written = dir.path().join("template.json");
    std::fs::write(&written, &out.stdout).unwrap();
    let lint = python(
        "import sys\n\
         from cfnlint.runner import main\n\
         sys.argv = ['cfn-lint', sys.argv[1]]\n\
         sys.exit(main())",
        &written.to_string_lossy(),
    );
    assert!(
        lint.status.success(),
        "{}",
        String::from_utf8_lossy(&lint.stdout)
    );

    // A function not built is named, and nothing is written.
    std::fs::remove_file(dir.path().join(&binaries[0]).join("bootstrap.zip")).unwrap();
    let missing = Command::new(moto::python_path())
        .arg(&script)
        .arg(template_path())
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(missing.stdout.is_empty());
    assert!(String::from_utf8_lossy(&missing.stderr).contains(&binaries[0]));
}

#[test]
fn make_deploy_without_credentials_stops_before_building_and_says_why() {
    let home = tempfile::tempdir().unwrap();
    let target = tempfile::tempdir().unwrap();
    let mut command = Command::new("sh");
    command
        .arg(moto::workspace_root().join("scripts/deploy.sh"))
        .arg("x86_64")
        .env_clear()
        .env("HOME", home.path())
        .env("CARGO_TARGET_DIR", target.path())
        .env("DOMAIN", "help.example.edu")
        .env("MAIL_DOMAIN", "help.example.edu")
        .env("MASTER_KEY", "ab".repeat(32));
    for name in ["PATH", "PYENV_ROOT"] {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    let out = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("make deploy: no AWS credentials are configured")
            || stderr.starts_with("make deploy: neither the AWS SAM CLI"),
        "{stderr}"
    );
    assert!(
        std::fs::read_dir(target.path()).unwrap().next().is_none(),
        "nothing was built"
    );
}
