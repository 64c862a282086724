//! Identifiers in the formats AWS uses: API Gateway ids are lowercase alphanumerics (10 for
//! REST APIs and root resources, 6 for child resources and deployments), request ids are UUIDs.

use rand::Rng;

const ID_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// A random id of `len` characters from `[a-z0-9]`.
pub fn alphanumeric_id(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ID_ALPHABET[rng.random_range(0..ID_ALPHABET.len())] as char)
        .collect()
}

/// A REST API, HTTP API or root resource id (10 characters).
pub fn api_id() -> String {
    alphanumeric_id(10)
}

/// A child resource, deployment, authorizer or model id (6 characters).
pub fn short_id() -> String {
    alphanumeric_id(6)
}

/// A request id: a random UUID v4, lower-case hyphenated.
pub fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Extended request id (`x-amz-apigw-id`): 16 characters, base64-like, ending in `=`.
pub fn extended_request_id() -> String {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut rng = rand::rng();
    let mut id: String = (0..15)
        .map(|_| B64[rng.random_range(0..B64.len())] as char)
        .collect();
    id.push('=');
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_aws_shapes() {
        let id = api_id();
        assert_eq!(id.len(), 10);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
        assert_eq!(short_id().len(), 6);
        let rid = request_id();
        assert_eq!(rid.len(), 36);
        assert_eq!(rid.as_bytes()[14], b'4');
        let ext = extended_request_id();
        assert_eq!(ext.len(), 16);
        assert!(ext.ends_with('='));
    }
}
