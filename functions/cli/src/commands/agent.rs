//! `taquilla agent create|list|reset-password`: agents of an instance, for
//! operators (scripting and recovery). Passwords are printed once.

use anyhow::{Context as _, anyhow};
use taquilla_core::config::Settings;
use taquilla_core::domain::{Department, DepartmentId, InstanceId, Role, RoleId};
use taquilla_core::services::admin::agents::{self, NewAgent, WithPassword};
use taquilla_core::services::admin::objects;
use taquilla_core::services::{Actor, Ctx};

use crate::args::{AgentArgs, AgentCommand};
use crate::secrets;
use crate::wiring::Runtime;

fn operator() -> Actor {
    Actor::System("taquilla agent".into())
}

pub async fn run(settings: Settings, args: AgentArgs) -> anyhow::Result<()> {
    let (master, _) = secrets::master_key(&settings.data_dir)?;
    let runtime = Runtime::connect(settings, &master).await?;
    let instance = match &args.command {
        AgentCommand::Create { instance, .. }
        | AgentCommand::List { instance }
        | AgentCommand::ResetPassword { instance, .. } => instance,
    };
    let instance = InstanceId::parse(instance.as_str()).context("--instance")?;
    let ctx = Ctx {
        store: runtime.store.as_ref(),
        blobs: runtime.blobs.as_ref(),
        clock: runtime.clock.as_ref(),
        instance: &instance,
    };
    let actor = operator();
    match args.command {
        AgentCommand::Create {
            email,
            name,
            department,
            role,
            admin,
            ..
        } => {
            let department = resolve_department(ctx, &actor, &department).await?;
            let role = resolve_role(ctx, &actor, role.as_deref()).await?;
            let created = agents::create(
                ctx,
                &actor,
                NewAgent {
                    name,
                    email,
                    department,
                    role,
                    admin,
                    access: std::collections::BTreeMap::new(),
                },
            )
            .await?;
            announce("Created", &instance, &created);
        }
        AgentCommand::List { .. } => {
            for agent in agents::list(ctx, &actor).await? {
                let a = agent.record;
                println!(
                    "{}\t{}\t{}\tdepartment {}\trole {}\t{}{}",
                    a.id,
                    a.email,
                    a.name,
                    a.department,
                    a.role,
                    if a.active { "active" } else { "inactive" },
                    if a.admin { "\tadmin" } else { "" },
                );
            }
        }
        AgentCommand::ResetPassword { email, .. } => {
            let agent = agents::by_email(ctx, &actor, &email).await?;
            let reset = agents::reset_password(ctx, &actor, agent.record.id).await?;
            announce("Reset the password of", &instance, &reset);
        }
    }
    Ok(())
}

/// Prints the agent's password, once.
fn announce(what: &str, instance: &InstanceId, done: &WithPassword) {
    println!(
        "{what} agent {} (id {}) of {instance}.\n  Password:    {}\n  (shown only now: keep it somewhere safe)",
        done.agent.record.email, done.agent.record.id, done.password
    );
}

/// A department named by id or by name (ignoring case).
async fn resolve_department(
    ctx: Ctx<'_>,
    actor: &Actor,
    wanted: &str,
) -> anyhow::Result<DepartmentId> {
    let all = objects::list::<Department>(ctx, actor).await?;
    all.iter()
        .find(|d| d.record.id.to_string() == wanted || d.record.name.eq_ignore_ascii_case(wanted))
        .map(|d| d.record.id)
        .ok_or_else(|| {
            let names: Vec<_> = all.iter().map(|d| d.record.name.as_str()).collect();
            anyhow!(
                "no department {wanted:?} in {}: there are {names:?}",
                ctx.instance
            )
        })
}

/// A role named by id or by name (ignoring case); without one, the first role.
async fn resolve_role(ctx: Ctx<'_>, actor: &Actor, wanted: Option<&str>) -> anyhow::Result<RoleId> {
    let all = objects::list::<Role>(ctx, actor).await?;
    let found = match wanted {
        Some(wanted) => all.iter().find(|r| {
            r.record.id.to_string() == wanted || r.record.name.eq_ignore_ascii_case(wanted)
        }),
        None => all.first(),
    };
    found.map(|r| r.record.id).ok_or_else(|| {
        let names: Vec<_> = all.iter().map(|r| r.record.name.as_str()).collect();
        anyhow!(
            "no role {:?} in {}: there are {names:?}",
            wanted.unwrap_or_default(),
            ctx.instance
        )
    })
}
