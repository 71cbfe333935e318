//! The printable invoice: one self-contained HTML page with a print stylesheet (A4, no
//! background colours, table headers repeated on every page). Every text that comes from
//! a user (names, emails, reasons, explanations) is escaped.

use super::store::Invoice;
use tollgate_core::rating::Currency;

/// `text` safe inside HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;color:#111;max-width:60rem;margin:2rem auto;padding:0 1rem}\
table{width:100%;border-collapse:collapse}th,td{padding:.4rem;border-bottom:1px solid #ccc;text-align:left;vertical-align:top}\
td.n,th.n{text-align:right;white-space:nowrap}.status{text-transform:uppercase;font-weight:bold}\
@media print{@page{size:A4;margin:15mm}body{margin:0;max-width:none;font-size:11pt}\
thead{display:table-header-group}tr{page-break-inside:avoid}a{color:inherit;text-decoration:none}}";

/// The page of `invoice` billed to `name` <`email`>.
pub fn render(invoice: &Invoice, name: &str, email: &str) -> String {
    let currency = Currency::of(&invoice.currency).unwrap_or(Currency {
        code: "XXX".into(),
        exponent: 2,
    });
    let money = |m: i64| escape(&currency.format(i128::from(m)));
    let mut rows = String::new();
    for line in &invoice.lines {
        rows.push_str(&format!(
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
            escape(&line.explanation),
            line.quantity,
            money(line.amount_minor)
        ));
    }
    let mut credits = String::new();
    for note in &invoice.credit_notes {
        credits.push_str(&format!(
            "<tr><td colspan=\"2\">Credit note {}: {}</td><td class=\"n\">-{}</td></tr>\n",
            escape(&note.id),
            escape(&note.reason),
            money(note.amount_minor)
        ));
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Invoice {id}</title><style>{STYLE}</style></head><body>\n\
<h1>Invoice {id}</h1>\n<p class=\"status\">{status}</p>\n\
<p>Billed to: {name} &lt;{email}&gt;<br>Period: {start} to {end}</p>\n\
<table><thead><tr><th>Description</th><th class=\"n\">Quantity</th><th class=\"n\">Amount</th></tr></thead>\n<tbody>\n{rows}{credits}</tbody>\n\
<tfoot><tr><th colspan=\"2\">Subtotal</th><td class=\"n\">{subtotal}</td></tr>\
<tr><th colspan=\"2\">Total due</th><td class=\"n\"><strong>{total}</strong></td></tr></tfoot></table>\n</body></html>\n",
        id = escape(&invoice.id),
        status = escape(&invoice.status),
        name = escape(name),
        email = escape(email),
        start = escape(&invoice.period_start),
        end = escape(&invoice.period_end),
        subtotal = money(invoice.subtotal_minor),
        total = money(invoice.total_minor),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_is_escaped() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }
}
