//! Whose a new key is: the consumer, API and plan named in the request, or those of the
//! subscription it is issued for. Each refusal names the member at fault.

use crate::admin::fields::Table;
use crate::admin::keys::CreateKey;
use crate::admin::subscriptions;
use crate::audit::Actor;
use crate::error::AppError;
use crate::routes::AppState;
use crate::tenancy::scope::visible;

/// The owner of a key about to be issued.
pub struct KeyOwner {
    pub consumer_id: String,
    pub api_id: String,
    pub plan_id: Option<String>,
    pub subscription_id: Option<String>,
}

async fn require(
    state: &AppState,
    actor: &Actor,
    table: Table,
    field: &str,
    id: &str,
) -> Result<(), AppError> {
    if visible(&state.db, table, id, actor).await? {
        Ok(())
    } else {
        Err(AppError::invalid(
            field,
            format!("nothing has the id `{id}`"),
        ))
    }
}

/// Resolves the owner of the key `body` asks for, at `now`.
pub async fn key_owner(
    state: &AppState,
    actor: &Actor,
    body: &CreateKey,
    now: i64,
) -> Result<KeyOwner, AppError> {
    let (consumer_id, api_id, plan_id, subscription_id) = match body.subscription_id.clone() {
        Some(sub_id) => {
            if body.consumer_id.is_some() || body.api_id.is_some() || body.plan_id.is_some() {
                return Err(AppError::invalid(
                    "subscription_id",
                    "give either `subscription_id` or `consumer_id` and `api_id`, not both",
                ));
            }
            let sub = subscriptions::for_key(state, actor, &sub_id, now).await?;
            (sub.consumer_id, sub.api_id, Some(sub.plan_id), Some(sub.id))
        }
        None => {
            let needed =
                |field: &str| AppError::invalid(field, "is required (or give `subscription_id`)");
            let consumer_id = body
                .consumer_id
                .clone()
                .ok_or_else(|| needed("consumer_id"))?;
            let api_id = body.api_id.clone().ok_or_else(|| needed("api_id"))?;
            require(state, actor, Table::Consumers, "consumer_id", &consumer_id).await?;
            require(state, actor, Table::Apis, "api_id", &api_id).await?;
            if let Some(plan_id) = &body.plan_id {
                require(state, actor, Table::Plans, "plan_id", plan_id).await?;
            }
            (consumer_id, api_id, body.plan_id.clone(), None)
        }
    };
    Ok(KeyOwner {
        consumer_id,
        api_id,
        plan_id,
        subscription_id,
    })
}
