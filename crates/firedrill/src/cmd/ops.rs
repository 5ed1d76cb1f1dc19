//! Operations on a running lab: restart, scale, drain, config, deploy, rollback.

use std::collections::BTreeMap;

use anyhow::{Result, anyhow, bail};
use serde_json::json;
use wire::lab::{
    ConfigChanged, ConfigSet, Deploy, Drain, Drained, Restarted, Rollback, Scale, Target,
};

use crate::cli::{Cli, ConfigCmd};
use crate::client::{LabClient, split_target};
use crate::output;

fn done(cli: &Cli, v: &impl serde::Serialize, msg: String) {
    let v = serde_json::to_value(v).unwrap_or_default();
    output::emit(cli.output, &v, || println!("{msg}"));
}

pub async fn restart(cli: &Cli, target: &str) -> Result<()> {
    let (service, index) = split_target(target)?;
    let v: Restarted = LabClient::new(cli)
        .send("/api/lab/restart", &Target { service, index })
        .await?;
    done(cli, &v, format!("restarted {target}"));
    Ok(())
}

pub async fn scale(cli: &Cli, service: &str, instances: u32) -> Result<()> {
    let req = Scale {
        service: service.to_string(),
        instances,
    };
    let v: Scale = LabClient::new(cli).send("/api/lab/scale", &req).await?;
    done(
        cli,
        &v,
        format!("{service} now runs {instances} instance(s)"),
    );
    Ok(())
}

pub async fn drain(cli: &Cli, target: &str, undo: bool) -> Result<()> {
    let (service, index) = split_target(target)?;
    let index = index.ok_or_else(|| anyhow!("drain needs SERVICE/N, e.g. cart/0"))?;
    let req = Drain {
        service,
        index,
        on: !undo,
    };
    let v: Drained = LabClient::new(cli).send("/api/lab/drain", &req).await?;
    let what = if undo {
        "back in rotation"
    } else {
        "drained: callers stop sending it traffic"
    };
    done(cli, &v, format!("{target} {what}"));
    Ok(())
}

pub fn parse_pairs(pairs: &[String]) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for p in pairs {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| anyhow!("{p:?} is not key=value"))?;
        if k.is_empty() {
            bail!("{p:?} has an empty key");
        }
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

pub async fn config(cli: &Cli, cmd: &ConfigCmd) -> Result<()> {
    let client = LabClient::new(cli);
    match cmd {
        ConfigCmd::Set { service, pairs } => {
            let set = parse_pairs(pairs)?;
            let req = ConfigSet {
                service: service.clone(),
                set,
            };
            let v: ConfigChanged = client.send("/api/lab/config", &req).await?;
            done(cli, &v, format!("{service}: set {}", pairs.join(" ")));
        }
        ConfigCmd::Get { service } => {
            let data = client.get("/api/lab/services").await?;
            let inst = data["services"]
                .as_array()
                .and_then(|a| a.iter().find(|s| s["name"] == service.as_str()))
                .and_then(|s| s["instances"].as_array()?.first().cloned())
                .ok_or_else(|| anyhow!("unknown service {service:?}"))?;
            let addr = inst["addr"].as_str().unwrap_or_default();
            let token = crate::datadir::read_token(&cli.data_dir)?;
            let resp = reqwest::Client::new()
                .get(format!("http://{addr}/admin/config"))
                .bearer_auth(token)
                .send()
                .await?;
            let v: serde_json::Value = resp.json().await?;
            output::json(&v);
        }
    }
    Ok(())
}

pub async fn deploy(cli: &Cli, service: &str, version: &str) -> Result<()> {
    let req = Deploy {
        service: service.to_string(),
        version: version.to_string(),
    };
    let v: Deploy = LabClient::new(cli).send("/api/lab/deploy", &req).await?;
    done(cli, &v, format!("{service} deployed at {version}"));
    Ok(())
}

pub async fn rollback(cli: &Cli, service: &str) -> Result<()> {
    let req = Rollback {
        service: service.to_string(),
    };
    let v: Deploy = LabClient::new(cli).send("/api/lab/rollback", &req).await?;
    let version = v.version.clone();
    done(cli, &v, format!("{service} rolled back to {version}"));
    Ok(())
}

pub async fn down(cli: &Cli) -> Result<()> {
    let v = LabClient::new(cli)
        .post("/api/lab/shutdown", json!({}))
        .await?;
    done(cli, &v, "the lab is stopping".into());
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn pairs() {
        let p =
            super::parse_pairs(&["timeout.cart=200ms".into(), "retries.cart=2".into()]).unwrap();
        assert_eq!(p["timeout.cart"], "200ms");
        assert!(super::parse_pairs(&["oops".into()]).is_err());
        assert!(super::parse_pairs(&["=1".into()]).is_err());
    }
}
