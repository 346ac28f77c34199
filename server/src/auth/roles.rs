//! Roles from an identity provider's groups: single sign-on's role claim and a trusted
//! proxy's groups header both name groups, and `--oidc-admin-values` / `--oidc-viewer-values`
//! say which groups make an admin or a viewer. Someone in none of them gets no role at all
//! (never a default one): being known to the company's identity provider is not permission
//! to read its CloudTrail history.

use engine::access::Role;

/// Which group values give which role.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleMapping {
    pub admin: Vec<String>,
    pub viewer: Vec<String>,
}

impl RoleMapping {
    /// The role of someone in `groups`: admin if any group is an admin value, else viewer if
    /// any is a viewer value, else none. Values compare exactly (case included).
    pub fn role_of<'a>(&self, groups: impl IntoIterator<Item = &'a str>) -> Option<Role> {
        let mut role = None;
        for group in groups {
            if self.admin.iter().any(|v| v == group) {
                return Some(Role::Admin);
            }
            if self.viewer.iter().any(|v| v == group) {
                role = Some(Role::Viewer);
            }
        }
        role
    }

    /// Whether any value is configured (with none, no one could be given a role).
    pub fn is_empty(&self) -> bool {
        self.admin.is_empty() && self.viewer.is_empty()
    }
}

/// The groups in a header such as oauth2-proxy's `X-Forwarded-Groups`: comma-separated.
pub fn header_groups(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|g| !g.is_empty())
}

/// The groups in a claim's JSON value: a string or an array of strings (other values are
/// ignored: a number is nobody's group name).
pub fn claim_groups(value: &serde_json::Value) -> Vec<&str> {
    match value {
        serde_json::Value::String(s) => vec![s.as_str()],
        serde_json::Value::Array(items) => items.iter().filter_map(serde_json::Value::as_str).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mapping() -> RoleMapping {
        RoleMapping { admin: vec!["ts-admins".into()], viewer: vec!["ts-viewers".into(), "sre".into()] }
    }

    #[test]
    fn admin_wins_over_viewer_and_no_match_is_no_role() {
        let m = mapping();
        assert_eq!(m.role_of(["sre", "ts-admins"]), Some(Role::Admin));
        assert_eq!(m.role_of(["staff", "sre"]), Some(Role::Viewer));
        assert_eq!(m.role_of(["staff", "TS-ADMINS"]), None, "exact comparison");
        assert_eq!(m.role_of([]), None);
    }

    #[test]
    fn groups_are_read_from_headers_and_claims() {
        assert_eq!(header_groups(" sre, ,ts-admins ").collect::<Vec<_>>(), ["sre", "ts-admins"]);
        assert_eq!(claim_groups(&json!(["a", 3, "b"])), ["a", "b"]);
        assert_eq!(claim_groups(&json!("a")), ["a"]);
        assert!(claim_groups(&json!({"a": 1})).is_empty());
    }
}
