//! Which plan a subscription was on when: its plan changes are kept so a period that
//! straddles a change is rated in two prorated segments, each on its own plan.

use crate::error::AppError;
use sqlx::AnyConnection;

/// Records a plan change, inside the transaction that makes it.
pub async fn record_plan_change(
    conn: &mut AnyConnection,
    subscription_id: &str,
    from_plan_id: &str,
    to_plan_id: &str,
    at_ms: i64,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO subscription_plan_changes (subscription_id, from_plan_id, to_plan_id, changed_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(subscription_id)
    .bind(from_plan_id)
    .bind(to_plan_id)
    .bind(at_ms)
    .execute(conn)
    .await?;
    Ok(())
}

/// One stretch of a subscription on one plan: `[from_ms, to_ms)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub plan_id: String,
    pub from_ms: i64,
    pub to_ms: i64,
}

/// The plan segments of a subscription from `started` to `end`, given its current plan
/// and its changes in order.
pub fn segments(
    current_plan: &str,
    started: i64,
    end: i64,
    changes: &[(String, String, i64)],
) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut from = started;
    for (from_plan, _, at) in changes {
        out.push(Segment {
            plan_id: from_plan.clone(),
            from_ms: from,
            to_ms: (*at).min(end),
        });
        from = *at;
    }
    out.push(Segment {
        plan_id: current_plan.to_owned(),
        from_ms: from,
        to_ms: end,
    });
    out.retain(|s| s.to_ms > s.from_ms);
    out
}

/// The changes of a subscription, oldest first: `(from_plan, to_plan, at)`.
pub async fn changes(
    conn: &mut AnyConnection,
    subscription_id: &str,
) -> Result<Vec<(String, String, i64)>, AppError> {
    Ok(sqlx::query_as(
        "SELECT from_plan_id, to_plan_id, changed_at FROM subscription_plan_changes \
         WHERE subscription_id = $1 ORDER BY changed_at",
    )
    .bind(subscription_id)
    .fetch_all(conn)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_split_the_subscription_into_segments() {
        let changes = vec![("a".to_owned(), "b".to_owned(), 50)];
        assert_eq!(
            segments("b", 10, 100, &changes),
            vec![
                Segment {
                    plan_id: "a".into(),
                    from_ms: 10,
                    to_ms: 50
                },
                Segment {
                    plan_id: "b".into(),
                    from_ms: 50,
                    to_ms: 100
                },
            ]
        );
        assert_eq!(segments("a", 10, 100, &[]).len(), 1);
        // A change at the very start leaves no empty segment.
        let at_start = vec![("a".to_owned(), "b".to_owned(), 10)];
        assert_eq!(segments("b", 10, 100, &at_start).len(), 1);
    }
}
