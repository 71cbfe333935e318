//! The invoice life cycle: draft → finalized → paid, or void from draft or finalized.
//! A draft may be regenerated from usage; a finalized invoice is immutable except for
//! being paid, voided or credited. Credit notes never exceed what remains to credit.

use serde::{Deserialize, Serialize};

/// Where an invoice stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InvoiceStatus {
    Draft,
    Finalized,
    Paid,
    Void,
}

/// What can be done to an invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceAction {
    /// Recompute the lines from usage.
    Regenerate,
    Finalize,
    Pay,
    Void,
    /// Issue a credit note.
    Credit,
}

/// Why an action is refused (a 409 for the caller).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvoiceConflict(pub String);

impl InvoiceStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::Draft => "draft",
            InvoiceStatus::Finalized => "finalized",
            InvoiceStatus::Paid => "paid",
            InvoiceStatus::Void => "void",
        }
    }

    /// The status named `name`, if any.
    pub fn parse(name: &str) -> Option<InvoiceStatus> {
        match name {
            "draft" => Some(InvoiceStatus::Draft),
            "finalized" => Some(InvoiceStatus::Finalized),
            "paid" => Some(InvoiceStatus::Paid),
            "void" => Some(InvoiceStatus::Void),
            _ => None,
        }
    }
}

/// The status after `action`, or why it is not allowed from `from`.
pub fn transition(
    from: InvoiceStatus,
    action: InvoiceAction,
) -> Result<InvoiceStatus, InvoiceConflict> {
    use InvoiceAction as A;
    use InvoiceStatus as S;
    let refuse = |why: &str| {
        Err(InvoiceConflict(format!(
            "the invoice is {}: {why}",
            from.as_str()
        )))
    };
    match (from, action) {
        (S::Draft, A::Regenerate) => Ok(S::Draft),
        (_, A::Regenerate) => {
            refuse("only a draft is recomputed from usage; issue a credit note instead")
        }
        (S::Draft, A::Finalize) => Ok(S::Finalized),
        (_, A::Finalize) => refuse("only a draft can be finalized"),
        (S::Finalized, A::Pay) => Ok(S::Paid),
        (S::Draft, A::Pay) => refuse("finalize it before recording a payment"),
        (_, A::Pay) => refuse("only a finalized invoice can be paid"),
        (S::Draft | S::Finalized, A::Void) => Ok(S::Void),
        (_, A::Void) => {
            refuse("a paid or void invoice cannot be voided; issue a credit note for a paid one")
        }
        (S::Finalized | S::Paid, A::Credit) => Ok(from),
        (S::Draft, A::Credit) => {
            refuse("a draft is corrected by regenerating it, not by a credit note")
        }
        (S::Void, A::Credit) => refuse("a void invoice has nothing to credit"),
    }
}

/// Checks a credit note of `amount` against an invoice `total` already credited by
/// `credited`; the error says how much may still be credited.
pub fn check_credit(total: i64, credited: i64, amount: i64) -> Result<(), InvoiceConflict> {
    let remaining = total.saturating_sub(credited).max(0);
    if amount <= 0 {
        return Err(InvoiceConflict(
            "a credit note must credit more than 0".into(),
        ));
    }
    if amount > remaining {
        return Err(InvoiceConflict(format!(
            "a credit note of {amount} exceeds the {remaining} minor units that remain to credit"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use InvoiceAction as A;
    use InvoiceStatus as S;

    #[test]
    fn the_life_cycle_runs_forward_only() {
        assert_eq!(transition(S::Draft, A::Finalize), Ok(S::Finalized));
        assert_eq!(transition(S::Finalized, A::Pay), Ok(S::Paid));
        assert_eq!(transition(S::Finalized, A::Void), Ok(S::Void));
        assert_eq!(transition(S::Draft, A::Void), Ok(S::Void));
        assert_eq!(transition(S::Draft, A::Regenerate), Ok(S::Draft));
        for (from, action) in [
            (S::Finalized, A::Regenerate),
            (S::Finalized, A::Finalize),
            (S::Draft, A::Pay),
            (S::Paid, A::Void),
            (S::Void, A::Pay),
            (S::Void, A::Credit),
            (S::Draft, A::Credit),
        ] {
            let err = transition(from, action).unwrap_err();
            assert!(err
                .0
                .starts_with(&format!("the invoice is {}", from.as_str())));
        }
        assert_eq!(S::parse("paid"), Some(S::Paid));
        assert_eq!(S::parse("Paid"), None);
    }

    #[test]
    fn credit_notes_are_bounded_by_what_remains() {
        assert!(check_credit(1000, 0, 1000).is_ok());
        assert!(check_credit(1000, 400, 600).is_ok());
        assert!(check_credit(1000, 400, 601)
            .unwrap_err()
            .0
            .contains("600 minor units"));
        assert!(check_credit(1000, 0, 0).is_err());
        assert!(check_credit(1000, 0, -5).is_err());
        assert!(check_credit(0, 0, 1).is_err());
    }
}
