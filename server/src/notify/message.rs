//! What a notification says: the EventBridge event a webhook receives, the insight file
//! CloudTrail would write, and the message people read (Slack, e-mail), built from the stored
//! insight record.
//!
//! Record fields that callers of AWS set (identity ARNs, user agents) reach people's screens
//! here, so every text is escaped for where it goes (Slack's `&<>`, HTML) and cut to a
//! length that cannot flood a message.

use std::fmt::Write as _;

use engine::insight::{InsightEvent, ValueAverage};
use sha2::{Digest, Sha256};

/// The event EventBridge delivers for an insight event, byte for byte the shape AWS uses,
/// with the stored record as `detail` unchanged. Its `id` derives from the eventID, so every
/// retry of the same delivery carries the same id (receivers may deduplicate on it).
pub fn eventbridge_event(event: &InsightEvent, record: &str) -> String {
    let id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("trailsight-eventbridge:{}", event.event_id).as_bytes());
    let text = |s: &str| serde_json::to_string(s).expect("a string serializes");
    format!(
        r#"{{"version":"0","id":{},"detail-type":"AWS Insight via CloudTrail","source":"aws.cloudtrail","account":{},"time":{},"region":{},"resources":[],"detail":{}}}"#,
        text(&id.to_string()),
        text(&event.recipient_account_id),
        text(&event.event_time),
        text(&event.aws_region),
        record.trim()
    )
}

/// Keeps a path segment to what CloudTrail's own account IDs and region names contain: the
/// record's account and region come from logged events, which anyone calling AWS can shape,
/// and must never climb out of the destination directory.
fn path_segment(text: &str) -> String {
    let safe: String = text.chars().take(64).map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    if safe.is_empty() { "_".to_owned() } else { safe }
}

/// Where CloudTrail writes an insight file:
/// `AWSLogs/<account>/CloudTrail-Insight/<region>/YYYY/MM/DD/<account>_CloudTrail-Insight_<region>_<YYYYMMDDTHHmmZ>_<16 chars>.json.gz`.
/// The 16 characters derive from the eventID, so delivering the same event again writes the
/// same file rather than a second copy.
pub fn insight_file_key(event: &InsightEvent) -> String {
    let (account, region) = (path_segment(&event.recipient_account_id), path_segment(&event.aws_region));
    // eventTime is "YYYY-MM-DDTHH:MM:SSZ" (checked when the record was made).
    let t = event.event_time.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        t.get(range).filter(|d| d.iter().all(u8::is_ascii_digit)).map(|d| String::from_utf8_lossy(d).into_owned()).unwrap_or_else(|| "00".into())
    };
    let (year, month, day, hour, minute) = (digits(0..4), digits(5..7), digits(8..10), digits(11..13), digits(14..16));
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let hash = Sha256::digest(event.event_id.as_bytes());
    let suffix: String = hash.iter().take(16).map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect();
    format!(
        "AWSLogs/{account}/CloudTrail-Insight/{region}/{year}/{month}/{day}/{account}_CloudTrail-Insight_{region}_{year}{month}{day}T{hour}{minute}Z_{suffix}.json.gz"
    )
}

/// The file's content: `{"Records":[<the record>]}`, gzip-compressed.
pub fn insight_file(record: &str) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(format!(r#"{{"Records":[{}]}}"#, record.trim()).as_bytes()).expect("writing to memory");
    gz.finish().expect("writing to memory")
}

/// The facts a person needs, drawn from the record.
pub struct Summary {
    pub title: String,
    pub started: bool,
    /// (label, value) lines in order.
    pub lines: Vec<(String, String)>,
    /// (heading, rows): a value set by callers of AWS (an identity, a user agent) and its
    /// rates, apart so each destination can quote the value its own way.
    pub tables: Vec<(String, Vec<Row>)>,
    pub link: Option<String>,
}

pub struct Row {
    pub value: String,
    /// `x/min (baseline y/min)`.
    pub rates: String,
}

/// Longest value shown (user agents can be kilobytes).
const MAX_VALUE_CHARS: usize = 160;

/// At most `max` characters, control characters (a CR/LF in a pushed eventName would start
/// a new e-mail header line or Slack paragraph) as spaces.
fn cut_to(text: &str, max: usize) -> String {
    let clean = |c: char| if c.is_control() { ' ' } else { c };
    if text.chars().count() <= max {
        text.chars().map(clean).collect()
    } else {
        format!("{}…", text.chars().take(max - 1).map(clean).collect::<String>())
    }
}

fn cut(text: &str) -> String {
    cut_to(text, MAX_VALUE_CHARS)
}

/// Slack refuses a header block longer than this (and with it the whole message).
const SLACK_HEADER_CHARS: usize = 150;

fn rate(x: f64) -> String {
    if x >= 10.0 { format!("{x:.0}") } else { format!("{x:.2}").trim_end_matches('0').trim_end_matches('.').to_owned() }
}

/// `public_url` is where people open the dashboard (`--public-url`), for the link.
pub fn summary(event: &InsightEvent, trail: &str, public_url: Option<&url::Url>) -> Summary {
    let d = &event.insight_details;
    let started = d.state == "Start";
    let what = if d.insight_type == "ApiErrorRateInsight" { "error rate" } else { "call rate" };
    let title = cut(&format!(
        "{} {what}: {} {}{}",
        if started { "Unusual" } else { "Back to normal" },
        d.event_source.trim_end_matches(".amazonaws.com"),
        d.event_name,
        d.error_code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default()
    ));
    let stats = &d.insight_context.statistics;
    let unit = if d.insight_type == "ApiErrorRateInsight" { "errors/min" } else { "calls/min" };
    let mut lines = vec![
        ("Insight".to_owned(), format!("{} {}", d.insight_type, d.state)),
        ("API".to_owned(), cut(&format!("{} {}", d.event_source, d.event_name))),
    ];
    if let Some(code) = &d.error_code {
        lines.push(("Error code".to_owned(), cut(code)));
    }
    lines.push((
        "Rate".to_owned(),
        format!(
            "{} {unit} {}, baseline {} {unit}",
            rate(stats.insight.average),
            if started { "in its first minute" } else { "on average" },
            rate(stats.baseline.average)
        ),
    ));
    if let (false, Some(minutes)) = (started, stats.insight_duration) {
        lines.push(("Duration".to_owned(), format!("{minutes} min")));
    }
    lines.push(("Account / region / trail".to_owned(), cut(&format!("{} / {} / {trail}", event.recipient_account_id, event.aws_region))));
    lines.push((if started { "Started" } else { "Ended" }.to_owned(), event.event_time.clone()));
    let mut tables = Vec::new();
    for (attribute, heading) in [("userIdentityArn", "Top identities"), ("userAgent", "Top user agents")] {
        if let Some(a) = d.insight_context.attributions.iter().find(|a| a.attribute == attribute) {
            let baseline = |v: &ValueAverage| a.baseline.iter().find(|b| b.value == v.value).map(|b| b.average).unwrap_or(0.0);
            let rows = a
                .insight
                .iter()
                .take(3)
                .map(|v| Row { value: cut(&v.value), rates: format!("{}/min (baseline {}/min)", rate(v.average), rate(baseline(v))) })
                .collect::<Vec<_>>();
            if !rows.is_empty() {
                tables.push((heading.to_owned(), rows));
            }
        }
    }
    // `https://host/trailsight` is a folder: without its trailing slash, join would drop it.
    let base = public_url.map(|u| if u.path().ends_with('/') { u.clone() } else { u.join(&format!("{}/", u.path())).unwrap_or_else(|_| u.clone()) });
    let link = base.and_then(|u| u.join(&format!("insights/{}", event.shared_event_id)).ok()).map(|u| u.to_string());
    Summary { title, started, lines, tables, link }
}

/// Slack's mrkdwn needs only these three escaped.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A caller-set value in a code span: Slack neither formats it (`*_~`) nor turns a URL in it
/// into a link (a user agent could carry a phishing link into a security alert).
fn slack_code(text: &str) -> String {
    format!("`{}`", slack_escape(&text.replace('`', "'")))
}

/// Slack refuses a section longer than this (and with it the whole message).
const SLACK_SECTION_CHARS: usize = 3000;

/// An incoming-webhook message: a plain `text` (notifications, fallbacks) and blocks.
pub fn slack_message(s: &Summary) -> serde_json::Value {
    let mut body = String::new();
    for (label, value) in &s.lines {
        let _ = writeln!(body, "*{}:* {}", slack_escape(label), slack_escape(value));
    }
    for (heading, rows) in &s.tables {
        let _ = writeln!(body, "*{}:*", slack_escape(heading));
        for row in rows {
            let _ = writeln!(body, "• {} — {}", slack_code(&row.value), row.rates);
        }
    }
    if let Some(link) = &s.link {
        let _ = writeln!(body, "<{}|Open in trailsight>", slack_escape(link));
    }
    // Escaping can make caller-set text up to five times longer: the section stays within
    // Slack's limit whatever it holds (the link, last, is kept when it fits).
    if body.chars().count() > SLACK_SECTION_CHARS {
        body = body.chars().take(SLACK_SECTION_CHARS - 1).collect::<String>() + "…";
    }
    let icon = if s.started { ":rotating_light:" } else { ":white_check_mark:" };
    serde_json::json!({
        "text": format!("{icon} {}", slack_escape(&s.title)),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": cut_to(&s.title, SLACK_HEADER_CHARS)}},
            {"type": "section", "text": {"type": "mrkdwn", "text": body}},
        ],
    })
}

/// The e-mail's plain-text body.
pub fn email_text(s: &Summary) -> String {
    let mut text = format!("{}\n\n", s.title);
    for (label, value) in &s.lines {
        let _ = writeln!(text, "{label}: {value}");
    }
    for (heading, rows) in &s.tables {
        let _ = writeln!(text, "\n{heading}:");
        for row in rows {
            let _ = writeln!(text, "  - {} — {}", row.value, row.rates);
        }
    }
    if let Some(link) = &s.link {
        let _ = writeln!(text, "\nOpen in trailsight: {link}");
    }
    text
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// The e-mail's HTML body: the same content as [`email_text`].
pub fn email_html(s: &Summary) -> String {
    let mut html = format!("<h2>{}</h2>\n<table>\n", html_escape(&s.title));
    for (label, value) in &s.lines {
        let _ = writeln!(html, "<tr><th align=\"left\">{}</th><td>{}</td></tr>", html_escape(label), html_escape(value));
    }
    html += "</table>\n";
    for (heading, rows) in &s.tables {
        let _ = writeln!(html, "<h3>{}</h3>\n<ul>", html_escape(heading));
        for row in rows {
            let _ = writeln!(html, "<li><code>{}</code> — {}</li>", html_escape(&row.value), html_escape(&row.rates));
        }
        html += "</ul>\n";
    }
    if let Some(link) = &s.link {
        let _ = writeln!(html, "<p><a href=\"{}\">Open in trailsight</a></p>", html_escape(link));
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(account: &str, region: &str) -> InsightEvent {
        let record = format!(
            r#"{{"eventVersion":"1.09","eventTime":"2024-05-01T12:34:00Z","awsRegion":"{region}","eventID":"e1","eventType":"AwsCloudTrailInsight","recipientAccountId":"{account}","sharedEventID":"s1","insightDetails":{{"state":"Start","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","insightType":"ApiCallRateInsight","sourceEventCategory":"Management","insightContext":{{"statistics":{{"baseline":{{"average":0.5}},"insight":{{"average":78.0}},"baselineDuration":10080}},"attributions":[{{"attribute":"userIdentityArn","insight":[{{"value":"arn:aws:iam::1:user/<script>","average":78.0}}],"baseline":[{{"value":"arn:aws:iam::1:user/<script>","average":0.25}}]}}]}}}},"eventCategory":"Insight"}}"#
        );
        serde_json::from_str(&record).unwrap()
    }

    #[test]
    fn insight_files_land_where_cloudtrail_puts_them_and_never_outside() {
        let key = insight_file_key(&event("123456789012", "us-east-1"));
        assert!(
            key.starts_with("AWSLogs/123456789012/CloudTrail-Insight/us-east-1/2024/05/01/123456789012_CloudTrail-Insight_us-east-1_20240501T1234Z_"),
            "{key}"
        );
        let suffix = key.rsplit('_').next().unwrap().strip_suffix(".json.gz").unwrap();
        assert_eq!(suffix.len(), 16);
        assert_eq!(key, insight_file_key(&event("123456789012", "us-east-1")), "the same event, the same file");
        let hostile = insight_file_key(&event("../../etc", "a/b"));
        assert!(!hostile.contains("..") && hostile.matches('/').count() == key.matches('/').count(), "{hostile}");
    }

    #[test]
    fn a_long_or_multi_line_event_name_cannot_break_a_message() {
        let mut e = event("1", "us-east-1");
        e.insight_details.event_name = format!("Run\r\nBcc: everyone@example.com\r\n{}", "x".repeat(500));
        let s = summary(&e, "prod", None);
        assert!(!s.title.contains(['\r', '\n']) && s.title.chars().count() <= MAX_VALUE_CHARS, "{}", s.title);
        let header = slack_message(&s)["blocks"][0]["text"]["text"].as_str().unwrap().to_owned();
        assert!(header.chars().count() <= SLACK_HEADER_CHARS, "{}", header.chars().count());
    }

    #[test]
    fn escaping_cannot_push_a_slack_message_past_its_limits() {
        let mut e = event("1", "us-east-1");
        let hostile = "<".repeat(400) + "https://evil.example/login *bold*";
        let values = (0..3).map(|i| engine::insight::ValueAverage { value: format!("{i}{hostile}"), average: 10.0 }).collect::<Vec<_>>();
        for attribute in ["userIdentityArn", "userAgent"] {
            e.insight_details.insight_context.attributions.push(engine::insight::Attribution {
                attribute: attribute.into(),
                insight: values.clone(),
                baseline: vec![],
            });
        }
        e.insight_details.insight_context.attributions.remove(0);
        let message = slack_message(&summary(&e, "prod", None));
        let section = message["blocks"][1]["text"]["text"].as_str().unwrap();
        assert!(section.chars().count() <= SLACK_SECTION_CHARS, "{}", section.chars().count());
        assert!(section.contains("• `0&lt;&lt;"), "values are quoted as code: {section}");
    }

    #[test]
    fn caller_set_values_are_escaped_for_people() {
        let s = summary(&event("1", "us-east-1"), "prod", Some(&"https://ts.example.com/".parse().unwrap()));
        assert_eq!(s.link.as_deref(), Some("https://ts.example.com/insights/s1"));
        let under_a_path = summary(&event("1", "us-east-1"), "prod", Some(&"https://ts.example.com/trailsight".parse().unwrap()));
        assert_eq!(under_a_path.link.as_deref(), Some("https://ts.example.com/trailsight/insights/s1"));
        assert!(email_html(&s).contains("user/&lt;script&gt;") && !email_html(&s).contains("<script>"));
        let slack = slack_message(&s).to_string();
        assert!(slack.contains("user/&lt;script&gt;") && !slack.contains("<script>"), "{slack}");
        assert!(email_text(&s).contains("78 calls/min in its first minute, baseline 0.5 calls/min"), "{}", email_text(&s));
    }
}
