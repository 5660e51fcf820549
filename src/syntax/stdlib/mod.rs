//! The standard library: functions and constants visible to every
//! expression when a name is not in scope (`sys.env`, `string.format`, …).
//!
//! The evaluator resolves an identifier here after the scope
//! ([`lookup`]), and calls a resulting [`StdFn`] through [`call`]. Functions
//! are an enum rather than function pointers so a [`Value`] holding one stays
//! comparable, hashable and serialisable. Each namespace lives in its own
//! file; deprecated top-level aliases resolve to the same functions and make
//! the evaluator record a warning.

mod array;
mod coalesce;
pub(crate) mod constants;
mod convert;
mod encoding;
mod file;
pub mod format;
mod json_path;
mod string;
mod sys;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::syntax::decode::FromValue;
use crate::syntax::eval::{EvalContext, ValueError};
use crate::syntax::value::Value;

/// Every standard-library function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum StdFn {
    SysEnv,
    Coalesce,
    JsonPath,
    ConvertNonsensitive,
    ArrayConcat,
    ArrayCombineMaps,
    ArrayGroupBy,
    EncodingFromJson,
    EncodingFromYaml,
    EncodingFromBase64,
    EncodingFromUrlBase64,
    EncodingToJson,
    EncodingToBase64,
    EncodingToUrlBase64,
    EncodingUrlEncode,
    EncodingUrlDecode,
    StringFormat,
    StringJoin,
    StringReplace,
    StringSplit,
    StringToLower,
    StringToUpper,
    StringTrim,
    StringTrimPrefix,
    StringTrimSuffix,
    StringTrimSpace,
    FilePathJoin,
}

impl StdFn {
    /// The function's canonical dotted name.
    pub fn name(self) -> &'static str {
        match self {
            StdFn::SysEnv => "sys.env",
            StdFn::Coalesce => "coalesce",
            StdFn::JsonPath => "json_path",
            StdFn::ConvertNonsensitive => "convert.nonsensitive",
            StdFn::ArrayConcat => "array.concat",
            StdFn::ArrayCombineMaps => "array.combine_maps",
            StdFn::ArrayGroupBy => "array.group_by",
            StdFn::EncodingFromJson => "encoding.from_json",
            StdFn::EncodingFromYaml => "encoding.from_yaml",
            StdFn::EncodingFromBase64 => "encoding.from_base64",
            StdFn::EncodingFromUrlBase64 => "encoding.from_URLbase64",
            StdFn::EncodingToJson => "encoding.to_json",
            StdFn::EncodingToBase64 => "encoding.to_base64",
            StdFn::EncodingToUrlBase64 => "encoding.to_URLbase64",
            StdFn::EncodingUrlEncode => "encoding.url_encode",
            StdFn::EncodingUrlDecode => "encoding.url_decode",
            StdFn::StringFormat => "string.format",
            StdFn::StringJoin => "string.join",
            StdFn::StringReplace => "string.replace",
            StdFn::StringSplit => "string.split",
            StdFn::StringToLower => "string.to_lower",
            StdFn::StringToUpper => "string.to_upper",
            StdFn::StringTrim => "string.trim",
            StdFn::StringTrimPrefix => "string.trim_prefix",
            StdFn::StringTrimSuffix => "string.trim_suffix",
            StdFn::StringTrimSpace => "string.trim_space",
            StdFn::FilePathJoin => "file.path_join",
        }
    }

    /// Experimental functions need `--stability.level=experimental`.
    pub fn is_experimental(self) -> bool {
        matches!(self, StdFn::ArrayCombineMaps | StdFn::ArrayGroupBy)
    }
}

const DEPRECATED: &[(&str, StdFn)] = &[
    ("env", StdFn::SysEnv),
    ("nonsensitive", StdFn::ConvertNonsensitive),
    ("concat", StdFn::ArrayConcat),
    ("json_decode", StdFn::EncodingFromJson),
    ("yaml_decode", StdFn::EncodingFromYaml),
    ("base64_decode", StdFn::EncodingFromBase64),
    ("format", StdFn::StringFormat),
    ("join", StdFn::StringJoin),
    ("replace", StdFn::StringReplace),
    ("split", StdFn::StringSplit),
    ("to_lower", StdFn::StringToLower),
    ("to_upper", StdFn::StringToUpper),
    ("trim", StdFn::StringTrim),
    ("trim_prefix", StdFn::StringTrimPrefix),
    ("trim_suffix", StdFn::StringTrimSuffix),
    ("trim_space", StdFn::StringTrimSpace),
];

const ALL: &[StdFn] = &[
    StdFn::SysEnv,
    StdFn::Coalesce,
    StdFn::JsonPath,
    StdFn::ConvertNonsensitive,
    StdFn::ArrayConcat,
    StdFn::ArrayCombineMaps,
    StdFn::ArrayGroupBy,
    StdFn::EncodingFromJson,
    StdFn::EncodingFromYaml,
    StdFn::EncodingFromBase64,
    StdFn::EncodingFromUrlBase64,
    StdFn::EncodingToJson,
    StdFn::EncodingToBase64,
    StdFn::EncodingToUrlBase64,
    StdFn::EncodingUrlEncode,
    StdFn::EncodingUrlDecode,
    StdFn::StringFormat,
    StdFn::StringJoin,
    StdFn::StringReplace,
    StdFn::StringSplit,
    StdFn::StringToLower,
    StdFn::StringToUpper,
    StdFn::StringTrim,
    StdFn::StringTrimPrefix,
    StdFn::StringTrimSuffix,
    StdFn::StringTrimSpace,
    StdFn::FilePathJoin,
];

static IDENTIFIERS: LazyLock<BTreeMap<&'static str, Value>> = LazyLock::new(|| {
    let mut top: BTreeMap<&'static str, Value> = BTreeMap::new();
    for f in ALL {
        match f.name().split_once('.') {
            None => {
                top.insert(f.name(), Value::Function(*f));
            }
            Some((ns, member)) => {
                let slot = top
                    .entry(ns)
                    .or_insert_with(|| Value::Object(Default::default()));
                if let Value::Object(map) = slot {
                    map.insert(member.to_string(), Value::Function(*f));
                }
            }
        }
    }
    top.insert("constants", constants::constants());
    for (name, f) in DEPRECATED {
        top.insert(name, Value::Function(*f));
    }
    top
});

/// A standard-library identifier (a function or a namespace object).
pub fn lookup(name: &str) -> Option<&'static Value> {
    IDENTIFIERS.get(name)
}

/// Whether a top-level name is a deprecated alias.
pub fn is_deprecated(name: &str) -> bool {
    DEPRECATED.iter().any(|(n, _)| *n == name)
}

/// Whether a top-level name belongs to the standard library.
pub fn is_stdlib_identifier(name: &str) -> bool {
    IDENTIFIERS.contains_key(name)
}

/// Check the argument count of a fixed-arity function (error on the callee).
pub(crate) fn arity(args: &[Value], n: usize) -> Result<(), ValueError> {
    if args.len() != n {
        return Err(ValueError::msg(format!(
            "expected {n} args, got {}",
            args.len()
        )));
    }
    Ok(())
}

/// Convert argument `i` with Alloy's decoding rules; errors name the arg.
pub(crate) fn arg<T: FromValue>(args: &[Value], i: usize) -> Result<T, ValueError> {
    let v = args.get(i).unwrap_or(&Value::Null);
    T::from_value(v).map_err(|e| e.on(i))
}

/// Call a standard-library function with evaluated arguments. Errors with
/// `operand: None` are about the function, `Some(i)` about argument `i`.
pub fn call(f: StdFn, args: Vec<Value>, _ctx: &EvalContext<'_>) -> Result<Value, ValueError> {
    match f {
        StdFn::SysEnv => sys::env(&args),
        StdFn::Coalesce => Ok(coalesce::coalesce(args)),
        StdFn::JsonPath => json_path::json_path(&args),
        StdFn::ConvertNonsensitive => convert::nonsensitive(&args),
        StdFn::ArrayConcat => array::concat(args),
        StdFn::ArrayCombineMaps => array::combine_maps(&args),
        StdFn::ArrayGroupBy => array::group_by(&args),
        StdFn::EncodingFromJson => encoding::from_json(&args),
        StdFn::EncodingFromYaml => encoding::from_yaml(&args),
        StdFn::EncodingFromBase64 => encoding::from_base64(&args, false),
        StdFn::EncodingFromUrlBase64 => encoding::from_base64(&args, true),
        StdFn::EncodingToJson => encoding::to_json(&args),
        StdFn::EncodingToBase64 => encoding::to_base64(&args, false),
        StdFn::EncodingToUrlBase64 => encoding::to_base64(&args, true),
        StdFn::EncodingUrlEncode => encoding::url_encode(&args),
        StdFn::EncodingUrlDecode => encoding::url_decode(&args),
        StdFn::StringFormat => string::format(&args),
        StdFn::StringJoin => string::join(&args),
        StdFn::StringReplace => string::replace(&args),
        StdFn::StringSplit => string::split(&args),
        StdFn::StringToLower => string::to_lower(&args),
        StdFn::StringToUpper => string::to_upper(&args),
        StdFn::StringTrim => string::trim(&args),
        StdFn::StringTrimPrefix => string::trim_prefix(&args),
        StdFn::StringTrimSuffix => string::trim_suffix(&args),
        StdFn::StringTrimSpace => string::trim_space(&args),
        StdFn::FilePathJoin => file::path_join(&args),
    }
}
