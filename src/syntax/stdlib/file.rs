//! `file.*`: path helpers (`file.path_join`).

use super::arg;
use crate::syntax::eval::ValueError;
use crate::syntax::value::Value;

/// Go's `filepath.Join` on Unix: join non-empty elements with `/` and
/// clean the result; `""` when all are empty.
pub fn path_join(args: &[Value]) -> Result<Value, ValueError> {
    let mut parts = Vec::with_capacity(args.len());
    for i in 0..args.len() {
        let p: String = arg(args, i)?;
        if !p.is_empty() {
            parts.push(p);
        }
    }
    if parts.is_empty() {
        return Ok(Value::string(""));
    }
    Ok(Value::String(clean(&parts.join("/"))))
}

/// Go's `path.Clean`.
pub fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn clean_like_go() {
        assert_eq!(clean("this/is/a/path"), "this/is/a/path");
        assert_eq!(clean("a//b/./c/.."), "a/b");
        assert_eq!(clean("/../a"), "/a");
        assert_eq!(clean("../../a"), "../../a");
        assert_eq!(clean("a/.."), ".");
    }
}
