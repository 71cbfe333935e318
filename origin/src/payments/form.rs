//! Stripe's request bodies: `application/x-www-form-urlencoded` with nested members in
//! bracket notation (`metadata[tollgate_invoice_id]=inv_1`, `period[start]=…`). A small
//! ordered builder, so the body of a retried request is byte-for-byte the same.

/// An ordered list of form fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form(Vec<(String, String)>);

impl Form {
    /// An empty form.
    pub fn new() -> Form {
        Form::default()
    }

    /// Adds `key=value`.
    pub fn field(mut self, key: &str, value: impl ToString) -> Form {
        self.0.push((key.to_owned(), value.to_string()));
        self
    }

    /// Adds `parent[child]=value`.
    pub fn nested(self, parent: &str, child: &str, value: impl ToString) -> Form {
        let key = format!("{parent}[{child}]");
        self.field(&key, value)
    }

    /// The encoded body.
    pub fn encode(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.0 {
            out.append_pair(k, v);
        }
        out.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_and_reserved_characters_are_encoded() {
        let body = Form::new()
            .field("name", "Acme & Co <script>")
            .nested("metadata", "tollgate_consumer_id", "con_1")
            .nested("period", "start", 1_790_000_000)
            .field("email", "dev+billing@acme.example")
            .encode();
        assert_eq!(
            body,
            "name=Acme+%26+Co+%3Cscript%3E&metadata%5Btollgate_consumer_id%5D=con_1\
             &period%5Bstart%5D=1790000000&email=dev%2Bbilling%40acme.example"
        );
        let decoded: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(decoded[1].0, "metadata[tollgate_consumer_id]");
        assert_eq!(decoded[0].1, "Acme & Co <script>");
    }
}
