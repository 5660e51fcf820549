//! The runtime as the HTTP server sees it: readiness, the components API and
//! reloads through `/-/reload`.

use std::future::Future;
use std::pin::Pin;

use super::state::ComponentSnapshot;
use super::Runtime;
use crate::server::{ComponentInfo, Controller};

fn info(c: ComponentSnapshot, detail: bool) -> ComponentInfo {
    let mut info = ComponentInfo::new(c.kind, c.id);
    info.label = c.label;
    info.references_to = c.references_to;
    info.referenced_by = c.referenced_by;
    info.health = c.health;
    info.evaluations = c.evaluations;
    info.updates = c.updates;
    if detail {
        info.arguments = Some(c.arguments);
        info.exports = Some(c.exports);
    }
    info
}

impl Controller for Runtime {
    fn ready(&self) -> bool {
        self.shared.ready()
    }

    fn components(&self) -> Vec<ComponentInfo> {
        self.shared
            .components()
            .into_iter()
            .map(|c| info(c, false))
            .collect()
    }

    fn component(&self, id: &str) -> Option<ComponentInfo> {
        self.shared.component(id).map(|c| info(c, true))
    }

    fn reload(&self) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>> {
        Box::pin(async move {
            Runtime::reload(self).await.map_err(|e| match e {
                super::ReloadError::Rejected(load) => load.to_string(),
                other => other.to_string(),
            })
        })
    }
}
