//! XML-RPC values: parsing a `methodCall` (a small XML reader of our own: XML-RPC uses elements
//! and text only; DTDs are refused) and writing responses byte-for-byte as Python's
//! `xmlrpclib.dumps` does.

use std::borrow::Cow;
use std::fmt::Write;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Bool(bool),
    Str(String),
    Double(f64),
    DateTime(String),
    Base64(String),
    Array(Vec<Value>),
    /// Member names are mostly literals: no allocation for them in responses.
    Struct(Vec<(Cow<'static, str>, Value)>),
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Int(i) => Some(*i != 0),
            _ => None,
        }
    }

    pub fn field(&self, k: &str) -> Option<&Value> {
        match self {
            Value::Struct(m) => m.iter().find(|(n, _)| n == k).map(|(_, v)| v),
            _ => None,
        }
    }
}

#[derive(Debug)]
enum Node {
    Elem(String, Vec<Node>),
    Text(String),
}

fn unescape(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let end = rest[i..].find(';').ok_or("unterminated entity")? + i;
        let ent = &rest[i + 1..end];
        match ent {
            "lt" => out.push('<'),
            "gt" => out.push('>'),
            "amp" => out.push('&'),
            "quot" => out.push('"'),
            "apos" => out.push('\''),
            _ => {
                let n = if let Some(h) = ent.strip_prefix("#x").or_else(|| ent.strip_prefix("#X")) {
                    u32::from_str_radix(h, 16).ok()
                } else if let Some(d) = ent.strip_prefix('#') {
                    d.parse().ok()
                } else {
                    None
                };
                out.push(
                    n.and_then(char::from_u32)
                        .ok_or_else(|| format!("unknown entity &{ent};"))?,
                );
            }
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// How deep elements may nest. supervisor's deepest call (`multicall` of calls with array
/// parameters) nests 14 deep; the tree is walked recursively, so the bound is what keeps a
/// hostile body from exhausting a worker's stack.
pub const MAX_DEPTH: usize = 100;

/// Parses a document into its root element.
fn parse_xml(s: &str) -> Result<Node, String> {
    let mut stack: Vec<(String, Vec<Node>)> = vec![(String::new(), Vec::new())];
    let mut rest = s;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("<?") {
            rest = &r[r.find("?>").ok_or("unterminated <?")? + 2..];
        } else if let Some(r) = rest.strip_prefix("<!--") {
            rest = &r[r.find("-->").ok_or("unterminated comment")? + 3..];
        } else if let Some(r) = rest.strip_prefix("<![CDATA[") {
            let end = r.find("]]>").ok_or("unterminated CDATA")?;
            if let Some(top) = stack.last_mut() {
                top.1.push(Node::Text(r[..end].to_owned()));
            }
            rest = &r[end + 3..];
        } else if rest.starts_with("<!") {
            return Err("DTDs are not accepted".into());
        } else if let Some(r) = rest.strip_prefix("</") {
            let end = r.find('>').ok_or("unterminated end tag")?;
            let name = r[..end].trim();
            let (open, children) = stack.pop().ok_or("unbalanced")?;
            if open != name {
                return Err(format!("</{name}> closes <{open}>"));
            }
            stack
                .last_mut()
                .ok_or("unbalanced")?
                .1
                .push(Node::Elem(open, children));
            rest = &r[end + 1..];
        } else if let Some(r) = rest.strip_prefix('<') {
            let end = r.find('>').ok_or("unterminated tag")?;
            let inner = &r[..end];
            let (inner, empty) = match inner.strip_suffix('/') {
                Some(i) => (i, true),
                None => (inner, false),
            };
            let name = inner
                .split(|c: char| c.is_whitespace())
                .next()
                .unwrap_or("")
                .to_owned();
            if name.is_empty() {
                return Err("empty tag".into());
            }
            if empty {
                stack
                    .last_mut()
                    .ok_or("unbalanced")?
                    .1
                    .push(Node::Elem(name, Vec::new()));
            } else {
                if stack.len() > MAX_DEPTH {
                    return Err(format!(
                        "elements nest deeper than {MAX_DEPTH} levels (the limit)"
                    ));
                }
                stack.push((name, Vec::new()));
            }
            rest = &r[end + 1..];
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            let text = unescape(&rest[..end])?;
            stack
                .last_mut()
                .ok_or("unbalanced")?
                .1
                .push(Node::Text(text));
            rest = &rest[end..];
        }
    }
    if stack.len() != 1 {
        return Err("unclosed element".into());
    }
    let (_, top) = stack.pop().ok_or("empty document")?;
    top.into_iter()
        .find(|n| matches!(n, Node::Elem(..)))
        .ok_or_else(|| "no root element".into())
}

fn children(n: &Node) -> impl Iterator<Item = &Node> {
    let v: &[Node] = match n {
        Node::Elem(_, c) => c,
        Node::Text(_) => &[],
    };
    v.iter().filter(|c| matches!(c, Node::Elem(..)))
}

fn text(n: &Node) -> String {
    match n {
        Node::Text(t) => t.clone(),
        Node::Elem(_, c) => c.iter().map(text).collect(),
    }
}

fn name(n: &Node) -> &str {
    match n {
        Node::Elem(name, _) => name,
        Node::Text(_) => "",
    }
}

fn child<'a>(n: &'a Node, tag: &str) -> Option<&'a Node> {
    children(n).find(|c| name(c) == tag)
}

fn value(n: &Node) -> Result<Value, String> {
    let Some(typed) = children(n).next() else {
        // An untyped <value> is a string.
        return Ok(Value::Str(text(n)));
    };
    let t = text(typed);
    Ok(match name(typed) {
        "int" | "i4" | "i8" => Value::Int(t.trim().parse().map_err(|_| format!("bad int {t:?}"))?),
        "boolean" => Value::Bool(match t.trim() {
            "1" => true,
            "0" => false,
            _ => return Err(format!("bad boolean {t:?}")),
        }),
        "string" => Value::Str(t),
        "double" => Value::Double(t.trim().parse().map_err(|_| format!("bad double {t:?}"))?),
        "dateTime.iso8601" => Value::DateTime(t),
        "base64" => Value::Base64(t),
        "array" => {
            let data = child(typed, "data").ok_or("array without data")?;
            Value::Array(children(data).map(value).collect::<Result<_, _>>()?)
        }
        "struct" => Value::Struct(
            children(typed)
                .map(|m| {
                    let k = child(m, "name").map(text).ok_or("member without name")?;
                    let v = value(child(m, "value").ok_or("member without value")?)?;
                    Ok((Cow::Owned(k), v))
                })
                .collect::<Result<_, String>>()?,
        ),
        other => return Err(format!("unknown type <{other}>")),
    })
}

/// A `methodCall`: the method name and its parameters.
pub fn parse_call(body: &str) -> Result<(String, Vec<Value>), String> {
    let root = parse_xml(body)?;
    if name(&root) != "methodCall" {
        return Err("not a methodCall".into());
    }
    // Not trimmed: Python's UNKNOWN_METHOD for ` supervisor.getState`.
    let method = child(&root, "methodName")
        .map(text)
        .ok_or("no methodName")?
        .to_owned();
    let mut params = Vec::new();
    if let Some(ps) = child(&root, "params") {
        for p in children(ps) {
            let v = child(p, "value").ok_or("param without value")?;
            params.push(value(v)?);
        }
    }
    Ok((method, params))
}

fn escape(s: &str, out: &mut String) {
    let mut rest = s;
    while let Some(i) = memchr::memchr3(b'&', b'<', b'>', rest.as_bytes()) {
        out.push_str(&rest[..i]);
        out.push_str(match rest.as_bytes()[i] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            _ => "&gt;",
        });
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
}

/// `i` in decimal (the formatting machinery costs more than the digits here).
fn push_int(i: i64, out: &mut String) {
    let mut buf = [0u8; 20];
    let mut n = i.unsigned_abs();
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if i < 0 {
        out.push('-');
    }
    out.extend(buf[at..].iter().map(|&b| char::from(b)));
}

/// About how many bytes `dump` writes for `v`: one allocation for the whole response.
fn size_hint(v: &Value) -> usize {
    match v {
        Value::Str(s) | Value::DateTime(s) | Value::Base64(s) => 40 + s.len(),
        Value::Array(items) => 40 + items.iter().map(size_hint).sum::<usize>(),
        Value::Struct(m) => {
            40 + m
                .iter()
                .map(|(k, v)| 30 + k.len() + size_hint(v))
                .sum::<usize>()
        }
        _ => 40,
    }
}

/// Python's `Marshaller.dump`.
pub fn dump(v: &Value, out: &mut String) {
    match v {
        Value::Int(i) => {
            out.push_str("<value><int>");
            push_int(*i, out);
            out.push_str("</int></value>\n");
        }
        Value::Bool(b) => {
            let _ = writeln!(out, "<value><boolean>{}</boolean></value>", u8::from(*b));
        }
        Value::Str(s) => {
            out.push_str("<value><string>");
            escape(s, out);
            out.push_str("</string></value>\n");
        }
        Value::Double(d) => {
            let _ = writeln!(out, "<value><double>{d:?}</double></value>");
        }
        Value::DateTime(s) => {
            let _ = writeln!(
                out,
                "<value><dateTime.iso8601>{s}</dateTime.iso8601></value>"
            );
        }
        Value::Base64(s) => {
            let _ = writeln!(out, "<value><base64>\n{s}\n</base64></value>");
        }
        Value::Array(items) => {
            out.push_str("<value><array><data>\n");
            for i in items {
                dump(i, out);
            }
            out.push_str("</data></array></value>\n");
        }
        Value::Struct(members) => {
            out.push_str("<value><struct>\n");
            for (k, v) in members {
                out.push_str("<member>\n<name>");
                escape(k, out);
                out.push_str("</name>\n");
                dump(v, out);
                out.push_str("</member>\n");
            }
            out.push_str("</struct></value>\n");
        }
    }
}

/// `xmlrpclib.dumps((v,), methodresponse=1)`.
pub fn response(v: &Value) -> String {
    let mut out = String::with_capacity(100 + size_hint(v));
    out.push_str("<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n");
    dump(v, &mut out);
    out.push_str("</param>\n</params>\n</methodResponse>\n");
    out
}

/// `xmlrpclib.dumps(Fault(code, string))`.
pub fn fault(code: i32, s: &str) -> String {
    let mut out = String::from("<?xml version='1.0'?>\n<methodResponse>\n<fault>\n");
    dump(
        &Value::Struct(vec![
            ("faultCode".into(), Value::Int(code.into())),
            ("faultString".into(), Value::Str(s.to_owned())),
        ]),
        &mut out,
    );
    out.push_str("</fault>\n</methodResponse>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_pythons_client_sends() {
        let body = "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.startProcess</methodName>\n<params>\n<param>\n<value><string>a&amp;b</string></value>\n</param>\n<param>\n<value><boolean>1</boolean></value>\n</param>\n<param>\n<value>untyped</value>\n</param>\n<param>\n<value><array><data>\n<value><struct>\n<member>\n<name>methodName</name>\n<value><string>x</string></value>\n</member>\n</struct></value>\n</data></array></value>\n</param>\n</params>\n</methodCall>\n";
        let (m, p) = parse_call(body).expect("parses");
        assert_eq!(m, "supervisor.startProcess");
        assert_eq!(p[0], Value::Str("a&b".into()));
        assert_eq!(p[1], Value::Bool(true));
        assert_eq!(p[2], Value::Str("untyped".into()));
        assert_eq!(
            p[3],
            Value::Array(vec![Value::Struct(vec![(
                "methodName".into(),
                Value::Str("x".into())
            )])])
        );
        assert!(parse_call("<methodCall><params></params></methodCall>").is_err());
        assert!(parse_call("<!DOCTYPE x [<!ENTITY a 'b'>]><methodCall/>").is_err());
        assert!(parse_call("not xml").is_err());
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let deep = |open: &str, close: &str, n: usize| {
            format!(
                "<?xml version='1.0'?><methodCall><methodName>x</methodName><params><param><value>{}{}</value></param></params></methodCall>",
                open.repeat(n),
                close.repeat(n)
            )
        };
        for body in [
            deep("<a>", "</a>", 50_000),
            deep("<array><data><value>", "</value></data></array>", 5_000),
        ] {
            let e = parse_call(&body).expect_err("refused");
            assert!(e.contains("deeper than 100 levels"), "{e}");
        }
        // Deep but within the limit: still parsed.
        let ok = deep("<array><data><value>", "</value></data></array>", 25);
        assert!(parse_call(&ok).is_ok());
    }

    #[test]
    fn writes_like_xmlrpclib() {
        let v = Value::Struct(vec![
            ("state".into(), Value::Int(20)),
            ("ok".into(), Value::Bool(true)),
        ]);
        assert_eq!(
            response(&v),
            "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><struct>\n<member>\n<name>state</name>\n<value><int>20</int></value>\n</member>\n<member>\n<name>ok</name>\n<value><boolean>1</boolean></value>\n</member>\n</struct></value>\n</param>\n</params>\n</methodResponse>\n"
        );
        assert!(
            fault(10, "BAD_NAME: x")
                .contains("<name>faultCode</name>\n<value><int>10</int></value>")
        );
    }
}
