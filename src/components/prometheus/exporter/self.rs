//! `prometheus.exporter.self`: one scrape target for smelter's own metrics.
//!
//! In the data flow it is a control-plane source: its `targets` export (one
//! target) goes to `prometheus.scrape`, which scrapes the process's
//! `/metrics` ([`crate::metrics`]) through the HTTP server and pushes the
//! samples into the data plane. It takes no arguments.
//!
//! The target's labels follow Alloy's exporter components: `job` =
//! `integrations/self`, `instance` = the host name (`$HOSTNAME`, else the
//! kernel's, else `unknown`), `__scheme__` = `http`, `__meta_component_name`
//! and `__meta_component_id`. Alloy points `__address__` at an in-memory
//! listener and `__metrics_path__` at a per-component path; smelter has
//! neither, so they are the server's listen address (loopback when it
//! listens on every interface) and `/metrics`, which serves the same
//! metrics (`docs/differences.md`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::component::derived::run_derived_exports;
use crate::component::{
    Args, Build, BuildContext, Component, ComponentError, Exports, Health, Registration,
    RunContext, RunFuture,
};
use crate::controller::schema::Schema;
use crate::syntax::Value;

const NAME: &str = "prometheus.exporter.self";

pub fn registration() -> Registration {
    Registration {
        name: NAME,
        schema: Schema::new,
        validate,
        build: Build::Task(build),
    }
}

fn validate(v: &Value) -> Result<(), ComponentError> {
    Args::new(v).map(|_| ())
}

fn build(ctx: BuildContext, v: &Value) -> Result<Box<dyn Component>, ComponentError> {
    validate(v)?;
    let addr = ctx.http_listen_addr.ok_or_else(|| {
        ComponentError::runtime(format!(
            "{NAME} needs smelter's HTTP server (--server.http.listen-addr), which is not running"
        ))
    })?;
    let exports = exports(&ctx.id, addr, &instance());
    ctx.exports.publish(exports.clone());
    Ok(Box::new(SelfExporter {
        exports: ctx.exports,
        health: ctx.health,
        value: exports,
    }))
}

/// The `targets` export: the one target scraping `addr`'s `/metrics`.
pub fn exports(id: &str, addr: SocketAddr, instance: &str) -> Value {
    let component_name = id.rsplit_once('.').map_or(id, |(kind, _)| kind);
    let target = Value::object([
        (
            "__address__",
            Value::String(scrape_address(addr).to_string()),
        ),
        ("__scheme__", Value::string("http")),
        ("__metrics_path__", Value::string("/metrics")),
        ("job", Value::string("integrations/self")),
        ("instance", Value::string(instance)),
        ("__meta_component_name", Value::string(component_name)),
        ("__meta_component_id", Value::string(id)),
    ]);
    Value::object([("targets", Value::Array(vec![target]))])
}

/// A server listening on every interface is scraped over loopback.
fn scrape_address(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), addr.port())
        }
        _ => addr,
    }
}

/// Alloy's `HostNameInstanceKey`.
pub fn instance() -> String {
    let env = std::env::var("HOSTNAME").unwrap_or_default();
    let name = if env.is_empty() {
        crate::syntax::stdlib::constants::hostname()
    } else {
        env
    };
    if name.is_empty() {
        "unknown".to_string()
    } else {
        name
    }
}

struct SelfExporter {
    exports: Exports,
    health: Health,
    value: Value,
}

impl Component for SelfExporter {
    fn run(self: Box<Self>, ctx: RunContext) -> RunFuture {
        let value = self.value;
        Box::pin(run_derived_exports(
            ctx,
            self.exports,
            self.health,
            "exporting smelter's own metrics",
            move |_| Ok(value.clone()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_target_on_loopback_for_unspecified_address() {
        let v = exports(
            "prometheus.exporter.self.default",
            "0.0.0.0:12345".parse().expect("addr"),
            "host-a",
        );
        let Value::Object(o) = v else {
            panic!("object")
        };
        let Some(Value::Array(targets)) = o.get("targets") else {
            panic!("targets")
        };
        assert_eq!(targets.len(), 1);
        let Value::Object(t) = &targets[0] else {
            panic!("target object")
        };
        let get = |k: &str| match t.get(k) {
            Some(Value::String(s)) => s.to_string(),
            other => panic!("{k}: {other:?}"),
        };
        assert_eq!(get("__address__"), "127.0.0.1:12345");
        assert_eq!(get("__metrics_path__"), "/metrics");
        assert_eq!(get("job"), "integrations/self");
        assert_eq!(get("instance"), "host-a");
        assert_eq!(get("__meta_component_name"), "prometheus.exporter.self");
        assert_eq!(
            get("__meta_component_id"),
            "prometheus.exporter.self.default"
        );
        assert_eq!(t.len(), 7);
    }
}
