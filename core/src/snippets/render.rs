//! Writing an example request in each language, every value quoted for that language.

use super::request::Request;

/// A language a snippet is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Curl,
    JavaScript,
    Python,
    Go,
    Rust,
}

impl Language {
    /// Every language, in the order the portal shows them.
    pub const ALL: [Language; 5] = [
        Language::Curl,
        Language::JavaScript,
        Language::Python,
        Language::Go,
        Language::Rust,
    ];

    /// Name shown on the tab.
    pub fn label(self) -> &'static str {
        match self {
            Language::Curl => "curl",
            Language::JavaScript => "JavaScript",
            Language::Python => "Python",
            Language::Go => "Go",
            Language::Rust => "Rust",
        }
    }

    /// Short id for HTML ids and classes.
    pub fn id(self) -> &'static str {
        match self {
            Language::Curl => "curl",
            Language::JavaScript => "js",
            Language::Python => "python",
            Language::Go => "go",
            Language::Rust => "rust",
        }
    }
}

/// One snippet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    pub language: Language,
    pub code: String,
}

/// A POSIX shell single-quoted word: `'` becomes `'\''`.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A JSON string literal: valid in JavaScript, Python and Go source alike (their escapes
/// are a superset of JSON's, and serde_json escapes every control character).
pub fn json_quote(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// A Rust string literal (`\u{…}` escapes, which JSON's `\uXXXX` are not).
pub fn rust_quote(s: &str) -> String {
    format!("{s:?}")
}

fn curl(r: &Request) -> String {
    let mut out = format!("curl -X {} {}", r.method, shell_quote(&r.url));
    for (name, value) in &r.headers {
        out.push_str(&format!(
            " \\\n  -H {}",
            shell_quote(&format!("{name}: {value}"))
        ));
    }
    if let Some(body) = &r.body {
        out.push_str(&format!(" \\\n  --data {}", shell_quote(body)));
    }
    out
}

fn javascript(r: &Request) -> String {
    let headers: Vec<String> = r
        .headers
        .iter()
        .map(|(n, v)| format!("    {}: {},", json_quote(n), json_quote(v)))
        .collect();
    let body = r
        .body
        .as_ref()
        .map(|b| format!("  body: {},\n", json_quote(b)))
        .unwrap_or_default();
    format!(
        "const response = await fetch({}, {{\n  method: {},\n  headers: {{\n{}\n  }},\n{body}}});\nconsole.log(response.status, await response.text());",
        json_quote(&r.url),
        json_quote(&r.method),
        headers.join("\n"),
    )
}

fn python(r: &Request) -> String {
    let headers: Vec<String> = r
        .headers
        .iter()
        .map(|(n, v)| format!("        {}: {},", json_quote(n), json_quote(v)))
        .collect();
    let body = r
        .body
        .as_ref()
        .map(|b| format!("    data={},\n", json_quote(b)))
        .unwrap_or_default();
    format!(
        "import requests\n\nresponse = requests.request(\n    {},\n    {},\n    headers={{\n{}\n    }},\n{body})\nprint(response.status_code, response.text)",
        json_quote(&r.method),
        json_quote(&r.url),
        headers.join("\n"),
    )
}

fn go(r: &Request) -> String {
    let (strings_import, reader) = match &r.body {
        Some(b) => (
            "\t\"strings\"\n",
            format!("strings.NewReader({})", json_quote(b)),
        ),
        None => ("", "nil".to_owned()),
    };
    let headers: String = r
        .headers
        .iter()
        .map(|(n, v)| format!("\treq.Header.Set({}, {})\n", json_quote(n), json_quote(v)))
        .collect();
    format!(
        "package main\n\nimport (\n\t\"fmt\"\n\t\"io\"\n\t\"net/http\"\n{strings_import})\n\nfunc main() {{\n\treq, err := http.NewRequest({}, {}, {reader})\n\tif err != nil {{\n\t\tpanic(err)\n\t}}\n{headers}\tres, err := http.DefaultClient.Do(req)\n\tif err != nil {{\n\t\tpanic(err)\n\t}}\n\tdefer res.Body.Close()\n\tbody, _ := io.ReadAll(res.Body)\n\tfmt.Println(res.Status, string(body))\n}}",
        json_quote(&r.method),
        json_quote(&r.url),
    )
}

fn rust(r: &Request) -> String {
    let headers: String = r
        .headers
        .iter()
        .map(|(n, v)| format!("        .header({}, {})\n", rust_quote(n), rust_quote(v)))
        .collect();
    let body = r
        .body
        .as_ref()
        .map(|b| format!("        .body({})\n", rust_quote(b)))
        .unwrap_or_default();
    format!(
        "// Cargo.toml: reqwest = \"0.12\", tokio = {{ version = \"1\", features = [\"full\"] }}\n#[tokio::main]\nasync fn main() -> Result<(), Box<dyn std::error::Error>> {{\n    let response = reqwest::Client::new()\n        .request(reqwest::Method::from_bytes({}.as_bytes())?, {})\n{headers}{body}        .send()\n        .await?;\n    println!(\"{{}} {{}}\", response.status(), response.text().await?);\n    Ok(())\n}}",
        rust_quote(&r.method),
        rust_quote(&r.url),
    )
}

/// The request written in every language, in `Language::ALL` order.
pub fn render_all(r: &Request) -> Vec<Snippet> {
    Language::ALL
        .into_iter()
        .map(|language| Snippet {
            language,
            code: match language {
                Language::Curl => curl(r),
                Language::JavaScript => javascript(r),
                Language::Python => python(r),
                Language::Go => go(r),
                Language::Rust => rust(r),
            },
        })
        .collect()
}
