//! The admin commands as an operator scripts them: `taquilla instance` and
//! `taquilla agent` on a data directory, read through their output and the store.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use taquilla_core::clock::{Clock, SystemClock};
use taquilla_core::domain::{Agent, AgentId, InstanceId};
use taquilla_core::keys;
use taquilla_core::store::{ItemStore, codec};

const BIN: &str = env!("CARGO_BIN_EXE_taquilla");

/// `taquilla ARGS --data-dir DIR` with a clean `TAQUILLA_*` environment; must succeed.
fn taquilla(dir: &Path, args: &[&str]) -> String {
    let mut cmd = Command::new(BIN);
    for (name, _) in std::env::vars() {
        if name.starts_with("TAQUILLA_") {
            cmd.env_remove(name);
        }
    }
    let out: Output = cmd.args(args).arg("--data-dir").arg(dir).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "taquilla {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn password_of(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("Password:"))
        .map(|p| p.trim().to_owned())
        .unwrap_or_else(|| panic!("no password in {stdout}"))
}

/// The agent with `email` in `instance`, read straight from the store.
fn stored_agent(dir: &Path, instance: &str, email: &str) -> Agent {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let store =
            taquilla_local::SqliteStore::open_with_clock(&dir.join("taquilla.db"), clock).unwrap();
        let instance = InstanceId::parse(instance).unwrap();
        let claim = store
            .get(&keys::agent_email(&instance, email))
            .await
            .unwrap()
            .unwrap();
        let id = u32::try_from(claim.get_i64("agent").unwrap()).unwrap();
        let item = store
            .get(&keys::object(&instance, AgentId::KIND, id))
            .await
            .unwrap()
            .unwrap();
        codec::decode(&item).unwrap()
    })
}

#[test]
fn instance_create_then_list_shows_it_and_its_admin_password_works() {
    let dir = tempfile::tempdir().unwrap();
    let out = taquilla(
        dir.path(),
        &[
            "instance",
            "create",
            "--slug",
            "physics",
            "--name",
            "Physics Department",
            "--language",
            "es",
            "--admin-email",
            "Head@Physics.example.org",
        ],
    );
    let password = password_of(&out);
    assert_eq!(password.len(), 20);
    let admin = stored_agent(dir.path(), "physics", "head@physics.example.org");
    assert!(admin.admin);
    assert!(taquilla_core::password::verify(
        &password,
        &admin.password_hash
    ));

    let list = taquilla(dir.path(), &["instance", "list"]);
    assert!(
        list.lines()
            .any(|l| l.starts_with("physics\tPhysics Department\tonline")),
        "{list}"
    );
}

#[test]
fn agent_create_list_and_reset_password() {
    let dir = tempfile::tempdir().unwrap();
    taquilla(dir.path(), &["init", "--demo"]);
    let out = taquilla(
        dir.path(),
        &[
            "agent",
            "create",
            "--instance",
            "demo",
            "--email",
            "nuria@demo.example.org",
            "--name",
            "Núria Vidal",
            "--department",
            "academic office",
            "--role",
            "Limited access",
        ],
    );
    let first = password_of(&out);
    let agent = stored_agent(dir.path(), "demo", "nuria@demo.example.org");
    assert_eq!(agent.name, "Núria Vidal");
    assert_eq!(agent.department.0, 2);
    assert_eq!(agent.role.0, 2);
    assert!(!agent.admin);
    assert!(taquilla_core::password::verify(
        &first,
        &agent.password_hash
    ));

    let list = taquilla(dir.path(), &["agent", "list", "--instance", "demo"]);
    assert!(list.contains("admin@demo.taquilla.test"), "{list}");
    assert!(
        list.contains("nuria@demo.example.org\tNúria Vidal"),
        "{list}"
    );

    let out = taquilla(
        dir.path(),
        &[
            "agent",
            "reset-password",
            "--instance",
            "demo",
            "--email",
            "nuria@demo.example.org",
        ],
    );
    let second = password_of(&out);
    assert_ne!(first, second);
    let agent = stored_agent(dir.path(), "demo", "nuria@demo.example.org");
    assert!(taquilla_core::password::verify(
        &second,
        &agent.password_hash
    ));
    assert!(!taquilla_core::password::verify(
        &first,
        &agent.password_hash
    ));
}
