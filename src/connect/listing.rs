//! Listing every connector, written once for the health poll (statuses) and the
//! planner (configs and states), with one set of version fallbacks: one expanded call
//! plus `GET /connectors` (names without a status record are left out of the first,
//! spec §2.2) on 2.3+, and one read per connector, a few at a time, before 2.3 (where
//! `expand` is ignored and the answer is a plain name array).

use std::{collections::BTreeMap, future::Future};

use futures::{StreamExt, TryStreamExt, stream};

use super::{
    ConnectClient, ConnectError,
    types::{Expanded, Expansion},
};

/// How many per-connector reads run at once.
pub const PARALLELISM: usize = 8;

/// What to do with a listed name the expanded answer left out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    /// Keep it as `None`: it has no status record yet (transitional).
    Absent,
    /// Read it on its own.
    ReadEach,
}

/// Every listed connector by name; `read_one` reads one connector (`None`: vanished or
/// without a record) where the expanded answer cannot.
pub async fn list<T, F, Fut>(
    client: &ConnectClient,
    missing: Missing,
    read_one: F,
) -> Result<BTreeMap<String, Option<T>>, ConnectError>
where
    T: Expansion,
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<Option<T>, ConnectError>>,
{
    let path = format!("/connectors?{}", T::QUERY);
    let (expanded, names) = tokio::join!(
        client.get_json::<Expanded<T>>(&path),
        client.connector_names()
    );
    let (mut found, names, before_2_3) = match (expanded?, names?) {
        (Expanded::Names(names), _) => (BTreeMap::new(), names, true),
        (Expanded::ByName(by_name), names) => (by_name, names, false),
    };
    let unread: Vec<String> = names
        .into_iter()
        .filter(|n| !matches!(found.get(n), Some(Some(_))))
        .collect();
    match (missing, before_2_3) {
        (Missing::Absent, false) => found.extend(unread.into_iter().map(|n| (n, None))),
        _ => found.extend(read_each(unread, &read_one).await?),
    }
    Ok(found)
}

/// Reads each named connector, [`PARALLELISM`] at a time.
async fn read_each<T, F, Fut>(
    names: Vec<String>,
    read_one: &F,
) -> Result<Vec<(String, Option<T>)>, ConnectError>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<Option<T>, ConnectError>>,
{
    let reads = names.into_iter().map(|name| async move {
        let read = read_one(name.clone()).await?;
        Ok::<_, ConnectError>((name, read))
    });
    stream::iter(reads)
        .buffered(PARALLELISM)
        .try_collect()
        .await
}
