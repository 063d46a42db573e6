//! Response envelopes, error mapping and request parsing shared by every route.
//!
//! Handlers return a [`Reply`] (the payload plus the envelope `count`/`total` they set) or an
//! [`ApiError`]. Neither renders a body itself: both park themselves in the response extensions
//! and the [`wrap`] middleware, which knows the request URL for `links`, draws the envelope
//! (docs/docspace-api.md, "Response envelopes"). That keeps handlers free of URL plumbing.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

/// A successful payload and the envelope fields the endpoint sets explicitly.
#[derive(Debug, Clone)]
pub struct Reply {
    pub response: Value,
    /// Envelope `count`; when `None`, derived from the payload (array length, 1, or 0 for null).
    pub count: Option<i64>,
    /// Envelope `total`; only some endpoints set it (docs/docspace-api.md, "Response envelopes").
    pub total: Option<i64>,
}

impl Reply {
    pub fn new(response: Value) -> Reply {
        Reply {
            response,
            count: None,
            total: None,
        }
    }

    pub fn count(mut self, count: i64) -> Reply {
        self.count = Some(count);
        self
    }

    pub fn total(mut self, total: i64) -> Reply {
        self.total = Some(total);
        self
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut response = StatusCode::OK.into_response();
        response.extensions_mut().insert(Pending::Ok(self));
        response
    }
}

/// The failures the server's exception handler knows plus model validation
/// and the auth challenge (docs/docspace-api.md, "Response envelopes"; docs/docspace-api.md, "Authentication").
#[derive(Debug, Clone)]
pub enum ApiError {
    /// 404, original message (e.g. `The required folder was not found`).
    NotFound(String),
    /// 400, original message (argument errors such as an unknown `roomType` int).
    Argument(String),
    /// 403, message always replaced by `Access denied`.
    Security,
    /// 403 with the original message (role not allowed, archived room, ...).
    InvalidOperation(String),
    /// 400 in the success-envelope shape with a validation-problem object
    /// (docs/docspace-api.md, "Response envelopes").
    Validation(Vec<(String, String)>),
    /// 401 with an empty body (docs/docspace-api.md, "Authentication").
    Unauthorized,
    /// 500 with the original message.
    Internal(String),
    /// 402 with the original message (`TenantQuotaException`: a paid-seat limit).
    PaymentRequired(String),
}

pub type ApiResult<T = Reply> = Result<T, ApiError>;

/// Messages the real server uses, shared so tests and handlers agree.
pub const FOLDER_NOT_FOUND: &str = "The required folder was not found";
pub const ROLE_NOT_AVAILABLE: &str = "The role is not available for this user type";
pub const NO_EDIT_PERMISSION: &str = "You don't have permission to edit the room";
pub const USER_NOT_FOUND: &str = "The user could not be found";

impl ApiError {
    pub fn validation(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::Validation(vec![(field.to_string(), message.into())])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Argument(_) | ApiError::Validation(_) => StatusCode::BAD_REQUEST,
            ApiError::Security | ApiError::InvalidOperation(_) => StatusCode::FORBIDDEN,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::PaymentRequired(_) => StatusCode::PAYMENT_REQUIRED,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status().into_response();
        if !matches!(self, ApiError::Unauthorized) {
            response.extensions_mut().insert(Pending::Err(self));
        }
        response
    }
}

/// What a handler produced, waiting for [`wrap`] to draw it.
#[derive(Debug, Clone)]
enum Pending {
    Ok(Reply),
    Err(ApiError),
}

/// Draws the envelope around whatever the handler parked in the response extensions.
pub async fn wrap(request: Request, next: Next) -> Response {
    let href = request_href(&request);
    let action = request.method().as_str().to_string();
    let mut response = next.run(request).await;
    let Some(pending) = response.extensions_mut().remove::<Pending>() else {
        return response;
    };
    let status = response.status();
    let links = json!([{ "href": href, "action": action }]);
    let body = match pending {
        Pending::Ok(reply) => success_body(reply, links),
        Pending::Err(ApiError::Validation(errors)) => validation_body(&errors, links),
        Pending::Err(err) => error_body(&err),
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let (mut parts, _) = response.into_parts();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    let mut response = Response::from_parts(parts, Body::from(bytes));
    *response.status_mut() = status;
    response
}

/// Draws an error directly, for layers outside [`wrap`] (injected faults). Validation errors
/// need `links` and are only drawn by [`wrap`].
pub fn render_error(err: &ApiError) -> Response {
    let bytes = serde_json::to_vec(&error_body(err)).unwrap_or_default();
    let mut response = (err.status(), bytes).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// The full request URL echoed in `links` (docs/docspace-api.md, "Response envelopes").
fn request_href(request: &Request) -> String {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}{}", request.uri())
}

fn success_body(reply: Reply, links: Value) -> Value {
    let count = reply.count.unwrap_or(match &reply.response {
        Value::Array(items) => items.len() as i64,
        Value::Null => 0,
        _ => 1,
    });
    let mut body = Map::new();
    body.insert("response".into(), reply.response);
    body.insert("count".into(), count.into());
    if let Some(total) = reply.total {
        body.insert("total".into(), total.into());
    }
    body.insert("links".into(), links);
    body.insert("status".into(), 0.into());
    body.insert("statusCode".into(), 200.into());
    Value::Object(body)
}

/// 3.3: the success shape with `status: 1` and an ASP.NET validation-problem object. The
/// `title`/`type` texts are the framework's defaults (a guess for DocSpace's exact output).
fn validation_body(errors: &[(String, String)], links: Value) -> Value {
    let mut map = Map::new();
    for (field, message) in errors {
        let entry = map
            .entry(field.clone())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = entry {
            list.push(Value::String(message.clone()));
        }
    }
    let trace = uuid::Uuid::new_v4().simple().to_string();
    json!({
        "response": {
            "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
            "title": "One or more validation errors occurred.",
            "status": 400,
            "errors": map,
            "traceId": format!("00-{}-{}-00", trace, &trace[..16]),
        },
        "count": 1,
        "links": links,
        "status": 1,
        "statusCode": 400,
    })
}

/// 3.2: `{error: {message, type, stack, hresult}, status: 1, statusCode}`. Exception type
/// names and hresults are the .NET ones; the stack is a placeholder.
fn error_body(err: &ApiError) -> Value {
    let (message, kind, hresult): (String, &str, i64) = match err {
        ApiError::NotFound(m) => (
            m.clone(),
            "ASC.Files.Core.ItemNotFoundException",
            -2146233088,
        ),
        ApiError::Argument(m) => (m.clone(), "System.ArgumentException", -2147024809),
        ApiError::Security => (
            "Access denied".to_string(),
            "System.Security.SecurityException",
            -2146233078,
        ),
        ApiError::InvalidOperation(m) => {
            (m.clone(), "System.InvalidOperationException", -2146233079)
        }
        ApiError::Internal(m) => (m.clone(), "System.Exception", -2146233088),
        ApiError::PaymentRequired(m) => (
            m.clone(),
            "ASC.Core.Tenants.TenantQuotaException",
            -2146233088,
        ),
        ApiError::Validation(_) | ApiError::Unauthorized => {
            unreachable!("drawn elsewhere")
        }
    };
    json!({
        "error": {
            "message": message,
            "type": kind,
            "stack": "   at docspace-provision sandbox (emulated)",
            "hresult": hresult,
        },
        "status": 1,
        "statusCode": err.status().as_u16(),
    })
}

/// Query parameters, matched case-insensitively like ASP.NET model binding; repeated keys kept
/// (`type=2&type=8`,
/// docs/docspace-api.md, "Room listing and the key user's preferences").
#[derive(Debug, Default, Clone)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn from_query(query: Option<&str>) -> Params {
        Params(
            url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A non-empty string parameter.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// An integer parameter; a value that does not parse is a 400
    /// (docs/docspace-api.md, "Response envelopes").
    pub fn int(&self, name: &str) -> ApiResult<Option<i64>> {
        match self.text(name) {
            None => Ok(None),
            Some(v) => {
                v.trim().parse::<i64>().map(Some).map_err(|_| {
                    ApiError::validation(name, format!("The value '{v}' is not valid."))
                })
            }
        }
    }

    pub fn bool(&self, name: &str) -> ApiResult<bool> {
        match self.text(name) {
            None => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(ApiError::validation(
                name,
                format!("The value '{v}' is not valid."),
            )),
        }
    }

    /// `startIndex` (>= 0, default 0) and `count` (1..100, default 100):
    /// docs/docspace-api.md, "Response envelopes".
    pub fn paging(&self) -> ApiResult<(i64, i64)> {
        let count = self.int("count")?.unwrap_or(100);
        if !(1..=100).contains(&count) {
            return Err(ApiError::validation(
                "count",
                "The field count must be between 1 and 100.",
            ));
        }
        let start = self.int("startIndex")?.unwrap_or(0);
        if start < 0 {
            // Guess: the real range check on startIndex is not documented.
            return Err(ApiError::validation(
                "startIndex",
                "The field startIndex must be between 0 and 2147483647.",
            ));
        }
        Ok((start, count))
    }
}

/// Parses a JSON body, matching property names case-insensitively like the framework (6.4,
/// unconfirmed). An empty body counts as `{}` (lenient: the real framework's answer to an empty
/// body is unconfirmed). Malformed JSON or wrong types are a 400
/// (docs/docspace-api.md, "Response envelopes").
pub fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    let value: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(bytes).map_err(|e| ApiError::validation("$", e.to_string()))?
    };
    serde_json::from_value(lowercase_keys(value)).map_err(|e| {
        ApiError::validation("$", format!("The JSON value could not be converted: {e}"))
    })
}

fn lowercase_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k.to_lowercase(), lowercase_keys(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(lowercase_keys).collect()),
        other => other,
    }
}

/// The length .NET would report for a string (UTF-16 code units), used for length limits.
pub fn dotnet_len(text: &str) -> usize {
    text.encode_utf16().count()
}
