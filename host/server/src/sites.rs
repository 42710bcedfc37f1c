//! Static sites: plugins with the `sites` grant publish a set of files, each
//! publication a new version; the host serves the live version at
//! `/t/{tenant}/sites/{site}/`, and an admin can roll back to any version.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use pa_runtime::SiteFile;
use sha2::{Digest, Sha256};

use pa_store::{Blobs, Store};

use crate::error::ApiError;
use crate::metering::Metering;
use crate::platform::Platform;

/// Most files one version may hold.
const MAX_FILES: usize = 1000;
/// Most bytes one version may hold.
const MAX_BYTES: usize = 20 << 20;

/// A site's pages run in a sandbox with an opaque origin: their scripts
/// cannot read the platform's cookies or storage or call its API as the viewer.
const SITE_POLICY: &str = "sandbox allow-scripts allow-forms allow-popups; frame-ancestors 'none'";

/// Checks a file's relative path: `/`-separated segments of letters,
/// digits, `.`, `_` and `-`, none of them empty, `.` or `..`.
fn check_path(path: &str) -> Result<(), String> {
    let valid = !path.is_empty()
        && path.len() <= 256
        && path.split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        });
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{path}` is not a site file path: use `/`-separated names of letters, digits, `.`, `_` and `-`"
        ))
    }
}

/// Publishes `files` as the new live version of the tenant's `site` for
/// `plugin`: the contents go to the blob store (counted against the
/// tenant's storage quota), then the version is recorded in one transaction.
pub async fn publish(
    (store, blobs, metering): (&Store, &Blobs, &Metering),
    tenant: &str,
    plugin: &str,
    site: &str,
    files: Vec<SiteFile>,
) -> Result<u32, String> {
    crate::api::check_name("site", site).map_err(|e| e.message)?;
    if files.is_empty() || files.len() > MAX_FILES {
        return Err(format!("a site has 1 to {MAX_FILES} files; {} were given", files.len()));
    }
    let bytes: usize = files.iter().map(|f| f.content.len()).sum();
    if bytes > MAX_BYTES {
        return Err(format!("a site holds at most {MAX_BYTES} bytes; {bytes} were given"));
    }
    let mut index = BTreeMap::new();
    for file in &files {
        check_path(&file.path)?;
        if index.contains_key(&file.path) {
            return Err(format!("`{}` is given twice", file.path));
        }
        index.insert(file.path.clone(), hex::encode(Sha256::digest(&file.content)));
    }
    metering
        .reserve_storage(tenant, bytes as u64)
        .await
        .map_err(|e| e.message)?;
    for file in &files {
        blobs
            .put(&index[&file.path], &file.content)
            .await
            .map_err(|e| format!("cannot store `{}`: {e}", file.path))?;
    }
    let index = serde_json::to_string(&index).expect("a map of strings serialises");
    let version = store
        .publish_site(tenant, site, &index, bytes as i64, plugin)
        .await
        .map_err(|e| format!("cannot record the site: {e}"))?;
    tracing::info!(tenant, plugin, site, version, "site published");
    Ok(u32::try_from(version).unwrap_or(u32::MAX))
}

/// `GET /t/{tenant}/sites/{site}`: the site's root wants the trailing slash
/// its relative links resolve against.
pub async fn root(Path((tenant, site)): Path<(String, String)>) -> Redirect {
    Redirect::permanent(&format!("/t/{tenant}/sites/{site}/"))
}

/// `GET /t/{tenant}/sites/{site}/` and below: a file of the live version
/// (`index.html` for a folder).
pub async fn serve(
    State(platform): State<Platform>,
    Path(params): Path<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let param = |name: &str| params.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str());
    let (tenant, name, path) = (param("tenant"), param("site"), param("path"));
    let missing = || ApiError::not_found(format!("site `{name}` has no page `/{path}`"));
    let site = platform.store.site(tenant, name).await?.ok_or_else(missing)?;
    let version = platform
        .store
        .site_version(tenant, name, site.live_version)
        .await?
        .ok_or_else(missing)?;
    let files: BTreeMap<String, String> = serde_json::from_str(&version.files).map_err(ApiError::internal)?;
    let wanted = if path.is_empty() || path.ends_with('/') {
        format!("{path}index.html")
    } else {
        path.to_string()
    };
    let (file, digest) = match files.get_key_value(&wanted) {
        Some(found) => found,
        None => files
            .get_key_value(&format!("{wanted}/index.html"))
            .ok_or_else(missing)?,
    };
    let content = platform.blobs.get(digest).await.map_err(ApiError::internal)?;
    let mime = mime_guess::from_path(file).first_or_octet_stream();
    let mut response = (StatusCode::OK, Body::from(content)).into_response();
    let headers = response.headers_mut();
    let value = |s: &str| HeaderValue::from_str(s).map_err(ApiError::internal);
    headers.insert(header::CONTENT_TYPE, value(mime.essence_str())?);
    headers.insert(header::ETAG, value(&format!("\"{digest}\""))?);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(SITE_POLICY));
    headers.insert("x-site-version", HeaderValue::from(site.live_version));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_paths_stay_inside_the_site() {
        for good in ["index.html", "assets/app.css", "a/b/c-1_2.txt"] {
            assert!(check_path(good).is_ok(), "{good}");
        }
        for bad in ["", "/index.html", "a//b", "../x", "a/./b", "a b", "a\\b", "dir/"] {
            assert!(check_path(bad).is_err(), "{bad:?}");
        }
    }
}
