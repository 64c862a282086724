//! Hand-written types of the HTTP-binding tables that the generated modules fill in.
//!
//! A rest-json request carries an operation's input in several places at once: path labels,
//! query parameters, headers and the JSON body (or a raw body for "payload" members). The
//! generated `OPERATIONS` tables describe, per operation, which input members live outside the
//! JSON body, so the protocol layer can gather them into one input value, and which output
//! members leave as headers or the status code.
//!
//! Shape names in these tables (`input`, `output`, `Payload::shape`) are the botocore names,
//! which are also the Rust struct names except where a name needed a trailing underscore
//! (for example apigatewayv2's `None` shape is the struct `None_`).

/// One operation of a service: how it is routed and how its members are bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// Operation name as in the model, e.g. `"CreateResource"`.
    pub name: &'static str,
    /// HTTP method, upper case, e.g. `"POST"`.
    pub method: &'static str,
    /// Path part of the model's `requestUri`, labels kept as written,
    /// e.g. `"/restapis/{restapi_id}/resources/{parent_id}"`; greedy labels keep their `+`.
    pub uri: &'static str,
    /// Literal query parameters the request must carry to select this operation
    /// (`?mode=import` gives `("mode", "import")`; a bare `?key` gives `("key", "")`).
    pub query_literals: &'static [(&'static str, &'static str)],
    /// Status code of a successful answer (`http.responseCode`, 200 when absent).
    pub success_code: u16,
    /// Input shape name, if the operation takes one.
    pub input: Option<&'static str>,
    /// Output shape name, if the operation returns one.
    pub output: Option<&'static str>,
    /// Input members that are not in the JSON body (path labels, query, headers).
    pub bindings: &'static [Binding],
    /// Input member that is the whole raw request body, when there is one.
    pub payload: Option<Payload>,
    /// Output members sent as headers or as the status code.
    pub output_bindings: &'static [Binding],
    /// Output member that is the whole raw response body, when there is one.
    pub output_payload: Option<Payload>,
}

/// A member that travels outside the JSON body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    /// The member's key in the struct's serde form: the member name from the model, except
    /// where a body member already travels under that name, where it is `location:member`
    /// (only apigateway `PutIntegrationRequest`'s path label: `uri:httpMethod`, because the
    /// body's `integrationHttpMethod` is sent as `httpMethod`).
    pub member: &'static str,
    /// Where the member travels.
    pub location: Location,
    /// The path label, query parameter or header name (the header prefix for
    /// [`Location::Headers`]); empty for [`Location::StatusCode`].
    pub location_name: &'static str,
    /// How the text form of the value is to be read or written.
    pub kind: ValueKind,
}

/// Where a bound member travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Location {
    /// A `{label}` of the URI path.
    Uri,
    /// A query-string parameter.
    Query,
    /// One HTTP header.
    Header,
    /// Every header starting with a prefix, gathered into a map.
    Headers,
    /// The HTTP status code of the response.
    StatusCode,
}

/// The value type of a bound member or payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueKind {
    /// Text (including enums).
    String,
    /// 32-bit integer.
    Integer,
    /// 64-bit integer.
    Long,
    /// `true` / `false`.
    Boolean,
    /// Floating point number.
    Double,
    /// A timestamp.
    Timestamp,
    /// A list of strings (a repeated query parameter, a comma-separated header).
    StringList,
    /// A map of strings (query parameters or prefixed headers).
    StringMap,
    /// Bytes.
    Blob,
    /// A structure serialized as the JSON body (only for payloads).
    Structure,
}

/// A member that is the entire raw HTTP body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Payload {
    /// Member name in the model, which is also its serde key.
    pub member: &'static str,
    /// [`ValueKind::Blob`], [`ValueKind::String`] or [`ValueKind::Structure`].
    pub kind: ValueKind,
    /// Name of the member's target shape, e.g. `"Blob"`.
    pub shape: &'static str,
}

/// A modelled error of a service and the HTTP status it is answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorInfo {
    /// Error shape name, which is also the error code, e.g. `"NotFoundException"`.
    pub name: &'static str,
    /// HTTP status code (`error.httpStatusCode` in the model).
    pub status: u16,
}
