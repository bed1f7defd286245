//! A minimal HTTP/1.1 client for the emulator's own API (`/moto-api/…`) and for the proxy's
//! upstream traffic.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::error::{HarnessError, Result};

/// The client type the harness uses for plain HTTP.
pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// A new plain-HTTP client.
pub fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// Sends one request and reads the whole answer: (status, body).
pub async fn request(method: &str, url: &str, body: Vec<u8>) -> Result<(u16, Vec<u8>)> {
    let req = hyper::Request::builder()
        .method(method)
        .uri(url)
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| HarnessError::during(&format!("build {method} {url}"), &e))?;
    let resp = client()
        .request(req)
        .await
        .map_err(|e| HarnessError::during(&format!("{method} {url}"), &e))?;
    let status = resp.status().as_u16();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| HarnessError::during(&format!("read the answer to {method} {url}"), &e))?
        .to_bytes();
    Ok((status, body.to_vec()))
}
