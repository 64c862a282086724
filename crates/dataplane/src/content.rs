//! `contentHandling` (`CONVERT_TO_TEXT`, `CONVERT_TO_BINARY`) and `binaryMediaTypes` for
//! non-proxy integrations: when a payload is base64-encoded or decoded on its way to the
//! integration and back to the client.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;

/// An integration's or integration response's `contentHandling`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentHandling {
    ToText,
    ToBinary,
}

impl ContentHandling {
    pub fn parse(value: Option<&str>) -> Option<Self> {
        match value? {
            "CONVERT_TO_TEXT" => Some(Self::ToText),
            "CONVERT_TO_BINARY" => Some(Self::ToBinary),
            _ => None,
        }
    }
}

fn encode(payload: &[u8]) -> Bytes {
    Bytes::from(BASE64.encode(payload))
}

/// A payload that must be base64 and is not: the gateway answers 500.
#[derive(Debug, PartialEq, Eq)]
pub struct NotBase64;

fn decode(payload: &[u8]) -> Result<Bytes, NotBase64> {
    let text: Vec<u8> = payload
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    BASE64.decode(text).map(Bytes::from).map_err(|_| NotBase64)
}

/// The integration request payload. `binary`: the request's Content-Type is a binary media
/// type and no template turned the payload into text.
pub fn request(
    payload: Bytes,
    binary: bool,
    handling: Option<ContentHandling>,
) -> Result<Bytes, NotBase64> {
    match (binary, handling) {
        (false, Some(ContentHandling::ToBinary)) => decode(&payload),
        (true, Some(ContentHandling::ToText)) => Ok(encode(&payload)),
        _ => Ok(payload),
    }
}

/// The method response payload. `binary`: the integration's payload is binary (its
/// Content-Type is a binary media type, no template applied); `accept_binary`: the client's
/// first Accept type is one.
pub fn response(
    payload: Bytes,
    binary: bool,
    accept_binary: bool,
    handling: Option<ContentHandling>,
) -> Result<Bytes, NotBase64> {
    use ContentHandling::{ToBinary, ToText};
    match (binary, accept_binary, handling) {
        (false, _, Some(ToBinary)) | (false, true, None) => decode(&payload),
        (false, _, _) => Ok(payload),
        (true, false, None | Some(ToText)) | (true, true, Some(ToText)) => Ok(encode(&payload)),
        (true, _, _) => Ok(payload),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ContentHandling::{ToBinary, ToText};

    #[test]
    fn request_table() {
        let text = Bytes::from("aGk=");
        let raw = Bytes::from_static(&[0xff, 0x00]);
        assert_eq!(request(text.clone(), false, None).unwrap(), text);
        assert_eq!(request(text.clone(), false, Some(ToText)).unwrap(), text);
        assert_eq!(
            request(text.clone(), false, Some(ToBinary)).unwrap(),
            Bytes::from("hi")
        );
        assert_eq!(
            request(Bytes::from("%%"), false, Some(ToBinary)),
            Err(NotBase64)
        );
        assert_eq!(request(raw.clone(), true, None).unwrap(), raw);
        assert_eq!(
            request(raw.clone(), true, Some(ToText)).unwrap(),
            Bytes::from("/wA=")
        );
        assert_eq!(request(raw.clone(), true, Some(ToBinary)).unwrap(), raw);
    }

    #[test]
    fn response_table() {
        let text = Bytes::from("aGk=");
        let raw = Bytes::from_static(&[0xff, 0x00]);
        let hi = Bytes::from("hi");
        assert_eq!(response(text.clone(), false, false, None).unwrap(), text);
        assert_eq!(
            response(text.clone(), false, false, Some(ToText)).unwrap(),
            text
        );
        assert_eq!(
            response(text.clone(), false, false, Some(ToBinary)).unwrap(),
            hi
        );
        assert_eq!(response(text.clone(), false, true, None).unwrap(), hi);
        assert_eq!(
            response(text.clone(), false, true, Some(ToText)).unwrap(),
            text
        );
        assert_eq!(
            response(text.clone(), false, true, Some(ToBinary)).unwrap(),
            hi
        );
        let b64 = Bytes::from("/wA=");
        assert_eq!(response(raw.clone(), true, false, None).unwrap(), b64);
        assert_eq!(
            response(raw.clone(), true, false, Some(ToText)).unwrap(),
            b64
        );
        assert_eq!(
            response(raw.clone(), true, false, Some(ToBinary)).unwrap(),
            raw
        );
        assert_eq!(response(raw.clone(), true, true, None).unwrap(), raw);
        assert_eq!(
            response(raw.clone(), true, true, Some(ToText)).unwrap(),
            b64
        );
        assert_eq!(
            response(raw.clone(), true, true, Some(ToBinary)).unwrap(),
            raw
        );
    }
}
