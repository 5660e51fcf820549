//! Argument schemas and the structural check of a block against one.
//!
//! The validator cannot evaluate expressions, but it can say which attribute
//! and block names a block accepts and which are required. A [`Schema`] is
//! that shape; [`check_block`] walks a block's body against it and reports
//! Alloy's messages (`unrecognized attribute name "x"`, `missing required
//! attribute "x"`, …) with Alloy's ranges and in Alloy's order: the body's
//! statements first, then the missing fields in declaration order.
//!
//! The schemas of the configuration blocks (`logging`, `foreach`, `import.*`,
//! the services) live here; components contribute theirs through the
//! registry (`registry.rs`).

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use crate::syntax::ast::{BlockStmt, Stmt};
use crate::syntax::{Diagnostic, SourceFile};

/// How often a nested block may appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Multiplicity {
    /// A single block: a second one is an error.
    Once,
    /// A list of blocks.
    Repeated,
}

/// What a field of a schema is.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldKind {
    Attr,
    Block(Box<Schema>, Multiplicity),
}

/// One attribute or block a schema accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The attribute name, or the (possibly dotted) block name.
    pub name: String,
    pub required: bool,
    pub kind: FieldKind,
}

/// The shape of a block body: its fields in declaration order (the order
/// of the "missing required" diagnostics). An `open` schema accepts anything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schema {
    pub fields: Vec<Field>,
    pub open: bool,
}

impl Schema {
    pub fn new() -> Self {
        Schema::default()
    }

    /// A schema that accepts any body (shape not known to smelter).
    pub fn open() -> Self {
        Schema {
            fields: Vec::new(),
            open: true,
        }
    }

    /// Add an attribute.
    pub fn attr(mut self, name: &str, required: bool) -> Self {
        self.fields.push(Field {
            name: name.to_string(),
            required,
            kind: FieldKind::Attr,
        });
        self
    }

    /// Add a block that may appear at most once.
    pub fn block(mut self, name: &str, required: bool, schema: Schema) -> Self {
        self.fields.push(Field {
            name: name.to_string(),
            required,
            kind: FieldKind::Block(Box::new(schema), Multiplicity::Once),
        });
        self
    }

    /// Add a block that may be repeated.
    pub fn blocks(mut self, name: &str, required: bool, schema: Schema) -> Self {
        self.fields.push(Field {
            name: name.to_string(),
            required,
            kind: FieldKind::Block(Box::new(schema), Multiplicity::Repeated),
        });
        self
    }

    /// Append all fields of `other` (Go's `,squash`).
    pub fn squash(mut self, other: Schema) -> Self {
        self.fields.extend(other.fields);
        self.open |= other.open;
        self
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// Check `block`'s body against `schema`, appending diagnostics to `out`.
pub fn check_block(
    file: &SourceFile,
    block: &BlockStmt,
    schema: &Schema,
    out: &mut Vec<Diagnostic>,
) {
    if schema.open {
        return;
    }
    let mut block_count: HashMap<String, usize> = HashMap::new();
    for stmt in &block.body {
        if let Stmt::Block(b) = stmt {
            *block_count.entry(b.full_name()).or_default() += 1;
        }
    }
    let mut seen_attrs: HashSet<&str> = HashSet::new();
    for stmt in &block.body {
        let range = |msg: String| {
            Diagnostic::error(file.position(stmt.start_pos()), msg)
                .with_end(file.position(stmt.end_pos()))
        };
        match stmt {
            Stmt::Attribute(a) => {
                let name = a.name.name.as_str();
                match schema.field(name).map(|f| &f.kind) {
                    None => out.push(range(format!("unrecognized attribute name {name:?}"))),
                    Some(FieldKind::Block(..)) => out.push(range(format!(
                        "{name:?} must be a block, but is used as an attribute"
                    ))),
                    Some(FieldKind::Attr) => {
                        if !seen_attrs.insert(name) {
                            out.push(range(format!(
                                "attribute {name:?} may only be provided once"
                            )));
                        }
                    }
                }
            }
            Stmt::Block(b) => {
                let name = b.full_name();
                match schema.field(&name).map(|f| &f.kind) {
                    None => out.push(range(format!("unrecognized block name {name:?}"))),
                    Some(FieldKind::Attr) => out.push(range(format!(
                        "{name:?} must be an attribute, but is used as a block"
                    ))),
                    Some(FieldKind::Block(inner, mult)) => {
                        if *mult == Multiplicity::Once
                            && block_count.get(&name).copied().unwrap_or(0) > 1
                        {
                            out.push(range(format!("block {name:?} may only be specified once")));
                        } else {
                            check_block(file, b, inner, out);
                        }
                    }
                }
            }
        }
    }
    for f in schema.fields.iter().filter(|f| f.required) {
        let missing = match f.kind {
            FieldKind::Attr => (!seen_attrs.contains(f.name.as_str())).then_some("attribute"),
            FieldKind::Block(..) => (!block_count.contains_key(&f.name)).then_some("block"),
        };
        if let Some(what) = missing {
            out.push(
                Diagnostic::error(
                    file.position(block.name_pos),
                    format!("missing required {what} {:?}", f.name),
                )
                .with_end(file.position(block.rcurly)),
            );
        }
    }
}

/// `HTTPClientConfig`, shared by `import.http`'s `client` block,
/// `remotecfg` and many components.
pub fn http_client_config() -> Schema {
    let tls = Schema::new()
        .attr("ca_pem", false)
        .attr("ca_file", false)
        .attr("cert_pem", false)
        .attr("cert_file", false)
        .attr("key_pem", false)
        .attr("key_file", false)
        .attr("server_name", false)
        .attr("insecure_skip_verify", false)
        .attr("min_version", false);
    let proxy = Schema::new()
        .attr("proxy_url", false)
        .attr("no_proxy", false)
        .attr("proxy_from_environment", false)
        .attr("proxy_connect_header", false);
    Schema::new()
        .block(
            "basic_auth",
            false,
            Schema::new()
                .attr("username", false)
                .attr("password", false)
                .attr("password_file", false),
        )
        .block(
            "authorization",
            false,
            Schema::new()
                .attr("type", false)
                .attr("credentials", false)
                .attr("credentials_file", false),
        )
        .block(
            "oauth2",
            false,
            Schema::new()
                .attr("client_id", false)
                .attr("client_secret", false)
                .attr("client_secret_file", false)
                .attr("scopes", false)
                .attr("token_url", false)
                .attr("endpoint_params", false)
                .squash(proxy.clone())
                .block("tls_config", false, tls.clone()),
        )
        .attr("bearer_token", false)
        .attr("bearer_token_file", false)
        .squash(proxy)
        .block("tls_config", false, tls)
        .attr("follow_redirects", false)
        .attr("enable_http2", false)
        .attr("http_headers", false)
}

/// Schemas of the configuration blocks handled by the runtime itself.
pub struct ConfigSchemas {
    pub logging: Schema,
    pub tracing: Schema,
    pub argument: Schema,
    pub export: Schema,
    /// Without `template`, which the validator takes out before checking.
    pub foreach: Schema,
    pub import_file: Schema,
    pub import_string: Schema,
    pub import_http: Schema,
    pub import_git: Schema,
}

pub static CONFIG: LazyLock<ConfigSchemas> = LazyLock::new(|| ConfigSchemas {
    logging: Schema::new()
        .attr("level", false)
        .attr("format", false)
        .attr("destination", false)
        .attr("write_to", false),
    tracing: Schema::new()
        .attr("sampling_fraction", false)
        .attr("send_traceparent", false)
        .block(
            "sampler",
            false,
            Schema::new().block(
                "jaeger_remote",
                false,
                Schema::new()
                    .attr("url", false)
                    .attr("max_operations", false)
                    .attr("refresh_interval", false),
            ),
        )
        .attr("write_to", false),
    argument: Schema::new()
        .attr("optional", false)
        .attr("default", false)
        .attr("comment", false),
    export: Schema::new().attr("value", true),
    foreach: Schema::new()
        .attr("collection", true)
        .attr("var", true)
        .attr("id", false)
        .attr("hash_string_id", false)
        .attr("enable_metrics", false),
    import_file: Schema::new()
        .attr("filename", true)
        .attr("detector", false)
        .attr("poll_frequency", false),
    import_string: Schema::new().attr("content", true),
    import_http: Schema::new()
        .attr("url", true)
        .attr("poll_frequency", false)
        .attr("poll_timeout", false)
        .attr("method", false)
        .attr("headers", false)
        .attr("body", false)
        .block("client", false, http_client_config()),
    import_git: Schema::new()
        .attr("repository", true)
        .attr("revision", false)
        .attr("path", true)
        .attr("pull_frequency", false)
        .block(
            "basic_auth",
            false,
            Schema::new().attr("username", true).attr("password", true),
        )
        .block(
            "ssh_key",
            false,
            Schema::new()
                .attr("username", true)
                .attr("key", false)
                .attr("key_file", false)
                .attr("passphrase", false),
        ),
});

/// A service block (`http`, `remotecfg`, …): its schema, or `None` when the
/// service takes no configuration.
pub struct ServiceDef {
    pub name: &'static str,
    pub schema: Option<Schema>,
}

/// The services `alloy validate` knows, in Alloy's order.
pub static SERVICES: LazyLock<Vec<ServiceDef>> = LazyLock::new(|| {
    let windows_filter = Schema::new()
        .block(
            "server",
            true,
            Schema::new()
                .attr("store", false)
                .attr("system_store", false)
                .attr("issuer_common_names", false)
                .attr("template_id", false)
                .attr("refresh_interval", false),
        )
        .block(
            "client",
            true,
            Schema::new()
                .attr("issuer_common_names", false)
                .attr("subject_regex", false)
                .attr("template_id", false),
        );
    let http_tls = Schema::new()
        .attr("cert_pem", false)
        .attr("cert_file", false)
        .attr("key_pem", false)
        .attr("key_file", false)
        .attr("client_ca_pem", false)
        .attr("client_ca_file", false)
        .attr("client_auth_type", false)
        .attr("cipher_suites", false)
        .attr("curve_preferences", false)
        .attr("min_version", false)
        .attr("max_version", false)
        .block("windows_certificate_filter", false, windows_filter);
    let http_client = Schema::new()
        .block(
            "basic",
            false,
            Schema::new().attr("username", true).attr("password", true),
        )
        .block(
            "filter",
            false,
            Schema::new()
                .attr("paths", false)
                .attr("authenticate_matching_paths", false),
        );
    vec![
        ServiceDef {
            name: "cluster",
            schema: None,
        },
        ServiceDef {
            name: "http",
            schema: Some(
                Schema::new()
                    .block("auth", false, http_client)
                    .block("tls", false, http_tls),
            ),
        },
        ServiceDef {
            name: "labelstore",
            schema: Some(Schema::new()),
        },
        ServiceDef {
            name: "livedebugging",
            schema: Some(Schema::new().attr("enabled", false)),
        },
        ServiceDef {
            name: "otel",
            schema: None,
        },
        ServiceDef {
            name: "remotecfg",
            schema: Some(
                Schema::new()
                    .attr("url", false)
                    .attr("id", false)
                    .attr("name", false)
                    .attr("attributes", false)
                    .attr("poll_frequency", false)
                    .squash(http_client_config()),
            ),
        },
        ServiceDef {
            name: "ui",
            schema: None,
        },
    ]
});

/// The service definition for a block ID (name plus label), if it is one.
pub fn service(id: &str) -> Option<&'static ServiceDef> {
    SERVICES.iter().find(|s| s.name == id)
}
