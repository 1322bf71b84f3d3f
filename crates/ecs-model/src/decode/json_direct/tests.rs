//! The direct decoder against the serde decoder: whenever the direct decoder
//! reads a body, the serde decoder reads the same response from it; and the
//! direct decoder does read the forms the service and the tolerance rules
//! allow (otherwise it would be correct and useless).

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

use super::decode as direct;
use crate::decode::json::decode_with_serde;

/// Whether the direct decoder read `text`; when it did, the serde decoder
/// must read the same response.
fn read_alike(text: &str) -> bool {
    match direct(text) {
        Some(response) => {
            assert_eq!(
                decode_with_serde(text.as_bytes(), Some(text)),
                Ok(response),
                "the decoders disagree on {text}"
            );
            true
        }
        None => false,
    }
}

#[test]
fn reads_the_tolerated_forms_as_the_serde_decoder_does() {
    let bodies = [
        include_str!("../../../tests/data/seed_response.json"),
        // Names in any case, numbers as strings, text kept as received.
        r#"{"requestid":"r","INVOCATION":{"totalcount":"5","PageNumber":" 2 ","Pagesize":7,
            "nexttoken":"t","InvocationResults":{"invocationresult":[{"commandid":" c-1 ",
            "EXITCODE":"-3","Dropped":"","Repeats":null,"invocationstatus":"success",
            "InvokeRecordStatus":" Weird ","ErrorCode":"","Output":" \n","Username":7,
            "StartTime":"2020-01-19T17:15:47+08:00","FinishedTime":"2020-01-19T09:15:47.250Z",
            "StopTime":"yesterday","ContainerId":true}]}}}"#,
        // A single object where a list is expected, and tags in every form.
        r#"{"Invocation":{"InvocationResults":{"InvocationResult":{"InvokeId":"t-1",
            "Tags":{"Tag":{"TagKey":"k","TagValue":"v"}}}}}}"#,
        r#"{"Invocation":{"InvocationResults":[{"InvokeId":"t-1","Tags":[{"Key":"k","Value":1}]},
            {"InvokeId":"t-2","Tags":null},{"InvokeId":"t-3","Tags":" "},{"InvokeId":"t-4","Tags":""}]}}"#,
        // Lists as null, a blank string, repeated item keys, unknown keys.
        r#"{"Invocation":{"InvocationResults":null}}"#,
        r#"{"Invocation":{"InvocationResults":"  "}}"#,
        r#"{"Invocation":{"InvocationResults":{"X":[1,{"a":[]}],"InvocationResult":[{"InvokeId":"a"}],
            "InvocationResult":{"InvokeId":"b"},"InvocationResult":null}}}"#,
        // Paging fields directly under the root; unknown fields of any kind.
        r#"{"RequestId":"r","TotalCount":1,"InvocationResults":{"InvocationResult":[]},
            "Extra":{"deep":[[[{"x":-1.5e-3}]]],"t":true,"f":false,"n":null}}"#,
        // Escapes, non-ASCII text, whitespace everywhere.
        " \t{ \"RequestId\" : \"a\\\"b\\\\c\\/\\b\\f\\n\\r\\t\\u00e9\\u4E2D 中文\" ,\r\n\
         \"Invocation\" : { \"InvocationResults\" : { \"InvocationResult\" : [ ] } } } \n",
        // Escaped names; later duplicates win.
        r#"{"\u0052equestId":"r1","RequestId":"r2","Invocation":{"PageSize":1},"Invocation":{"PageSize":2}}"#,
        // An error code beside a response is ignored.
        r#"{"Code":"Throttling","Invocation":{}}"#,
    ];
    for body in bodies {
        assert!(read_alike(body), "the direct decoder declined {body}");
    }
}

#[test]
fn leaves_every_error_and_doubt_to_the_serde_decoder() {
    let bodies = [
        r#"{"Invocation":{}"#,
        r#"{"Invocation":{}} x"#,
        r#"{"Invocation":{},}"#,
        r#"{"Invocation":null}"#,
        r#"{"Code":"Forbidden","Message":"no"}"#,
        r#"{"RequestId":"r"}"#,
        r#"{"RequestId":{"a":1},"Invocation":{}}"#,
        r#"{"Invocation":{"TotalCount":"many"}}"#,
        r#"{"Invocation":{"TotalCount":1.5}}"#,
        r#"{"Invocation":{"TotalCount":12345678901234567890}}"#,
        r#"{"Invocation":{"InvocationResults":{"InvocationResult":[{"ExitCode":"4x"}]}}}"#,
        r#"{"Invocation":{"InvocationResults":{"InvocationResult":[{"Output":[]}]}}}"#,
        r#"{"Invocation":{"InvocationResults":{"InvocationResult":[null]}}}"#,
        r#"{"Invocation":{"InvocationResults":{"InvocationResult":"x"}}}"#,
        r#"{"Invocation":{"InvocationResults":"x"}}"#,
        r#"{"Invocation":{"InvocationResults":1}}"#,
        r#"{"Invocation":{"NextToken":"\ud83d\ude00"}}"#,
        "{\"Invocation\":{\"NextToken\":\"a\tb\"}}",
        "{\"Invocation\":{}\u{c}}",
    ];
    // Nesting deeper than serde_json follows (128).
    let deep = format!(
        r#"{{"Invocation":{{}},"X":{}{}}}"#,
        "[".repeat(130),
        "]".repeat(130)
    );
    for body in bodies.into_iter().chain([deep.as_str()]) {
        assert!(direct(body).is_none(), "the direct decoder read {body}");
    }
}

#[test]
fn keys_out_of_the_learned_order_are_still_read() {
    // Where the first result's order expects `InvokeId`, the second has a
    // longer name starting with it, then the name in another case, then
    // the rest in another order.
    let body = r#"{"Invocation":{"InvocationResults":{"InvocationResult":[
        {"InvokeId":"t-1","InstanceId":"i-1","ExitCode":1},
        {"InvokeIdX":"no","invokeid":"t-2","ExitCode":2,"InstanceId":"i-2"},
        {"InvokeId":"t-3","InstanceId":"i-3","ExitCode":3}]}}}"#;
    assert!(read_alike(body));
    let results = direct(body)
        .map(|r| r.invocation.results)
        .unwrap_or_default();
    let ids: Vec<_> = results
        .iter()
        .map(|r| (r.invoke_id.as_str(), r.instance_id.as_str(), r.exit_code))
        .collect();
    assert_eq!(
        ids,
        [
            ("t-1", "i-1", Some(1)),
            ("t-2", "i-2", Some(2)),
            ("t-3", "i-3", Some(3))
        ]
    );
}

#[test]
fn a_full_page_of_results_with_tags_is_read() {
    // 50 results (the largest page), each with two tags: hundreds of
    // objects and arrays one after another, none nested deeper than five.
    let results: Vec<_> = (0..50)
        .map(|i| {
            format!(
                r#"{{"InvokeId":"t-{i}","InstanceId":"i-{i}","ExitCode":{i},"Output":"b2s=",
                "Tags":{{"Tag":[{{"TagKey":"team","TagValue":"a"}},{{"TagKey":"n","TagValue":"{i}"}}]}}}}"#
            )
        })
        .collect();
    let body = format!(
        r#"{{"RequestId":"r","Invocation":{{"TotalCount":120,"PageNumber":1,"PageSize":50,
        "InvocationResults":{{"InvocationResult":[{}]}}}}}}"#,
        results.join(",")
    );
    assert!(read_alike(&body), "the direct decoder declined a full page");
    let results = direct(&body)
        .map(|r| r.invocation.results)
        .unwrap_or_default();
    assert_eq!(results.len(), 50);
    assert_eq!(results[49].tags[1].value, "49");
}

// ---- Generated bodies ----

fn one_of(items: &[&'static str]) -> BoxedStrategy<String> {
    proptest::sample::select(items.to_vec())
        .prop_map(str::to_owned)
        .boxed()
}

/// JSON whitespace, and now and then a character that is not.
fn ws() -> BoxedStrategy<String> {
    prop_oneof![
        40 => Just(""),
        10 => Just(" "),
        3 => Just("\n  "),
        3 => Just("\t\r\n"),
        1 => Just("\u{c}"),
    ]
    .prop_map(str::to_owned)
    .boxed()
}

/// A quoted name: mostly `canonical`, sometimes in another case, escaped,
/// longer or shorter.
fn name(canonical: &'static str) -> BoxedStrategy<String> {
    let first = canonical.as_bytes()[0];
    prop_oneof![
        12 => Just(canonical.to_owned()),
        2 => Just(canonical.to_ascii_lowercase()),
        1 => Just(canonical.to_ascii_uppercase()),
        1 => Just(format!("{canonical}x")),
        1 => Just(canonical[..canonical.len() - 1].to_owned()),
        1 => Just(format!("\\u{first:04x}{}", &canonical[1..])),
    ]
    .prop_map(|name| format!("\"{name}\""))
    .boxed()
}

/// A quoted string of text pieces: mostly `pieces`, sometimes other text
/// or escapes, seldom something JSON does not allow (or the direct decoder
/// leaves to serde_json).
fn text(pieces: &[&'static str]) -> BoxedStrategy<String> {
    let usual = proptest::sample::select(pieces.to_vec()).prop_map(str::to_owned);
    let unusual = one_of(&[
        " ", "é中文", "\\n", "\\\"", "\\\\", "\\/", "\\u00e9", "\\u0000", "\\u4E2D",
    ]);
    let doubtful = one_of(&["\\ud83d\\ude00", "\\udc00", "\\x", "\\u12", "\u{1}", "\t"]);
    let piece = prop_oneof![30 => usual, 10 => unusual, 1 => doubtful];
    prop::collection::vec(piece, 0..3)
        .prop_map(|parts| format!("\"{}\"", parts.concat()))
        .boxed()
}

/// A number: mostly integers the direct decoder reads, sometimes others.
fn number() -> BoxedStrategy<String> {
    let usual = one_of(&[
        "0",
        "-0",
        "7",
        "-1",
        "42",
        "123456789012345678",
        "-123456789012345678",
    ]);
    let doubtful = one_of(&[
        "01",
        "1.0",
        "1.5",
        "-2.5E-2",
        "1e3",
        "1234567890123456789",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "18446744073709551616",
        "1.",
        "-",
    ]);
    prop_oneof![6 => usual, 1 => doubtful].boxed()
}

/// A value for a field read as text, an enum or a time.
fn scalar(pieces: &[&'static str]) -> BoxedStrategy<String> {
    prop_oneof![
        30 => text(pieces),
        3 => number(),
        3 => one_of(&["true", "false", "null"]),
        1 => one_of(&["nul", "{}", "[]"]),
    ]
    .boxed()
}

/// A value for a field read as an integer.
fn integer() -> BoxedStrategy<String> {
    prop_oneof![
        4 => number(),
        2 => one_of(&["\"42\"", "\" -7 \"", "\"\"", "null"]),
        1 => one_of(&["\"4x\"", "\"1.5\"", "true"]),
    ]
    .boxed()
}

/// Any JSON value, for unknown fields.
fn value() -> BoxedStrategy<String> {
    scalar(&["a", "b"])
        .prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3)
                    .prop_map(|items| format!("[{}]", items.join(","))),
                prop::collection::vec((text(&["k"]), inner), 0..3).prop_map(|members| {
                    let members: Vec<_> = members.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                    format!("{{{}}}", members.join(","))
                }),
            ]
        })
        .boxed()
}

/// An object of the members, with whitespace around them.
fn object(member: BoxedStrategy<(String, String)>, max: usize) -> BoxedStrategy<String> {
    prop::collection::vec((member, ws(), ws()), 0..max)
        .prop_map(|members| {
            let members: Vec<_> = members
                .iter()
                .map(|((key, value), before, after)| format!("{before}{key}{after}:{value}"))
                .collect();
            format!("{{{}}}", members.join(","))
        })
        .boxed()
}

/// A list of `item` objects in any of its forms (see `read_list`).
fn list(item: BoxedStrategy<String>, item_name: &'static str) -> BoxedStrategy<String> {
    let items = prop::collection::vec(item.clone(), 0..4).prop_map(|items| items.join(","));
    prop_oneof![
        4 => (name(item_name), items.clone()).prop_map(|(n, items)| format!("{{{n}:[{items}]}}")),
        1 => (name(item_name), item.clone()).prop_map(|(n, item)| format!("{{{n}:{item}}}")),
        1 => items.clone().prop_map(|items| format!("[{items}]")),
        1 => (name(item_name), items, item, value())
            .prop_map(|(n, a, b, other)| format!("{{{n}:[{a}],\"Other\":{other},{n}:{b}}}")),
        1 => one_of(&["null", "\"\"", "\" \"", "{}"]),
        1 => one_of(&["\"x\"", "0", "true"]),
        1 => name(item_name).prop_map(|n| format!("{{{n}:null}}")),
    ]
    .boxed()
}

fn tag() -> BoxedStrategy<String> {
    let member = prop_oneof![
        4 => (prop_oneof![name("TagKey"), name("TagValue"), name("Key"), name("Value")], scalar(&["k", "v"])),
        1 => (name("Other"), value()),
    ];
    object(member.boxed(), 4)
}

fn result() -> BoxedStrategy<String> {
    const TEXT: &[&str] = &[
        "CommandId",
        "InvokeId",
        "InstanceId",
        "ContainerId",
        "ContainerName",
        "Output",
        "ErrorInfo",
        "Username",
        "Launcher",
        "TerminationMode",
        "OssOutputDelivery",
        "OssOutputStatus",
        "OssOutputUri",
        "OssOutputErrorCode",
        "OssOutputErrorInfo",
    ];
    let pick = |names: &'static [&'static str]| {
        proptest::sample::select(names.to_vec()).prop_flat_map(name)
    };
    let member = prop_oneof![
        6 => (pick(TEXT), scalar(&["c-1", "t-1", "i-1", "MTU6NDU6MDEK", " x ", "é"])),
        2 => (
            pick(&["InvocationStatus", "InvokeRecordStatus", "ErrorCode"]),
            scalar(&["Success", "success", " Failed ", "Finished", "Weird", "InstanceNotExists"]),
        ),
        2 => (
            pick(&["StartTime", "FinishedTime", "StopTime"]),
            scalar(&[
                "2020-01-19T09:15:47Z",
                "2018-01-05 15:45:02",
                "2020-01-19T17:15:47+08:00",
                "2020-01-19T09:15:47.250Z",
                " 2020-01-19T09:15:47Z ",
                "2023-02-29T00:00:00Z",
                "yesterday",
            ]),
        ),
        2 => (pick(&["ExitCode", "Dropped", "Repeats"]), integer()),
        1 => (name("Tags"), list(tag(), "Tag")),
        1 => (name("Unknown"), value()),
    ];
    object(member.boxed(), 8)
}

/// Results, often the same object again (so that its keys come in a
/// learned order) and sometimes another.
fn results() -> BoxedStrategy<String> {
    (
        prop::collection::vec(result(), 1..3),
        prop::collection::vec(0..2usize, 0..5),
    )
        .prop_map(|(distinct, picks)| {
            let items: Vec<_> = picks
                .iter()
                .map(|&i| distinct[i % distinct.len()].clone())
                .collect();
            items.join(",")
        })
        .boxed()
}

fn invocation_member() -> BoxedStrategy<(String, String)> {
    prop_oneof![
        2 => (prop_oneof![name("TotalCount"), name("PageNumber"), name("PageSize")], integer()),
        1 => (name("NextToken"), scalar(&["AAAA", "t=="])),
        4 => (
            name("InvocationResults"),
            prop_oneof![
                4 => (name("InvocationResult"), results())
                    .prop_map(|(n, items)| format!("{{{n}:[{items}]}}")),
                1 => list(result(), "InvocationResult"),
            ],
        ),
        1 => (name("Unknown"), value()),
    ]
    .boxed()
}

fn body() -> BoxedStrategy<String> {
    let root_member = prop_oneof![
        2 => (name("RequestId"), scalar(&["r-1", "567FA138"])),
        6 => (name("Invocation"), object(invocation_member(), 5)),
        1 => invocation_member(),
        1 => (name("Code"), scalar(&["Throttling"])),
        1 => (name("Unknown"), value()),
    ];
    (
        object(root_member.boxed(), 4),
        ws(),
        prop_oneof![30 => Just(""), 1 => Just("x")],
    )
        .prop_map(|(root, ws, tail)| format!("{ws}{root}{ws}{tail}"))
        .boxed()
}

/// `body` with a few characters deleted, replaced or inserted.
fn mutated() -> BoxedStrategy<String> {
    let edit = (
        any::<usize>(),
        0..3u8,
        proptest::sample::select("\"\\,:{}[] 0-.eEnul\u{1}".chars().collect::<Vec<_>>()),
    );
    (body(), prop::collection::vec(edit, 1..4))
        .prop_map(|(body, edits)| {
            let mut chars: Vec<char> = body.chars().collect();
            for (at, op, c) in edits {
                let at = at % (chars.len() + 1);
                match op {
                    0 if at < chars.len() => {
                        chars.remove(at);
                    }
                    1 if at < chars.len() => chars[at] = c,
                    _ => chars.insert(at, c),
                }
            }
            chars.into_iter().collect()
        })
        .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn generated_bodies_decode_alike(body in body()) {
        read_alike(&body);
    }

    #[test]
    fn mutated_bodies_decode_alike(body in mutated()) {
        read_alike(&body);
    }
}

#[test]
fn the_direct_decoder_reads_most_generated_bodies() {
    // The generators make bodies that neither decoder reads and bodies only
    // the serde decoder reads (fractions, long numbers, surrogates); of the
    // bodies the serde decoder reads the direct decoder must read most, or
    // the comparisons above would prove little.
    let mut runner = TestRunner::deterministic();
    let strategy = body();
    let (mut direct_read, mut serde_read) = (0, 0);
    for _ in 0..500 {
        let Ok(tree) = strategy.new_tree(&mut runner) else {
            continue;
        };
        let body = tree.current();
        if read_alike(&body) {
            direct_read += 1;
        }
        if decode_with_serde(body.as_bytes(), Some(&body)).is_ok() {
            serde_read += 1;
        }
    }
    assert!(
        direct_read >= 100 && direct_read * 10 >= serde_read * 7,
        "of 500 generated bodies, the serde decoder read {serde_read}, the direct one {direct_read}"
    );
}
