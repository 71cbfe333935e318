//! Invoices per consumer per billing period (the calendar month, UTC): generated as a
//! draft from usage and subscriptions (idempotently: regenerating a draft replaces its
//! lines), then finalized, paid or voided through the core's life cycle, credited by
//! bounded credit notes, and rendered as printable HTML. Finalized invoices never change.

mod generate;
pub mod handlers;
pub mod history;
pub mod html;
pub mod pricing;
pub mod store;
