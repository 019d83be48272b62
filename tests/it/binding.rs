//! Binding by the code the property prints (绑定码, issue 18): a customer without the phone on
//! file binds with the account number and the code; a rotated code replaces the old one at
//! once; wrong codes lock binding by code for the account; every refusal names its field.

use serde_json::{Value, json};
use tests::{graphql, post_json};

use crate::payments::{SP_APPID, setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_printed_binding_code_binds_once_rotates_and_locks_after_ten_wrong_tries() {
    let s = setup().await;
    let addr = s.app.app.http_addr;
    let number = s.admin.ok("query($a: ID!) { account(id: $a) { number } }", json!({"a": s.accounts.1}))["account"]["number"].clone();
    const ISSUE: &str = "mutation($a: ID!, $r: Boolean!) { issueBindingCode(accountId: $a, rotate: $r) }";
    let code = s.admin.ok(ISSUE, json!({"a": s.accounts.1, "r": false}))["issueBindingCode"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 8);
    assert!(code.chars().all(|c| "23456789ABCDEFGHJKMNPQRSTVWXYZ".contains(c)), "{code}");
    assert_eq!(
        s.admin.ok(ISSUE, json!({"a": s.accounts.1, "r": false}))["issueBindingCode"],
        code.as_str(),
        "printed again, the same code"
    );

    // A second WeChat user, signed in, bound to nothing.
    let wechat =
        server::wechat::standin::WechatStandIn::start("127.0.0.1:0".parse().unwrap(), &[(SP_APPID, "mini-program-secret-0123")]).unwrap();
    s.admin.ok(
        "mutation($a: String!, $b: String!) { setWechatApp(input: {appId: $a, appSecret: \"mini-program-secret-0123\", apiBase: $b}) }",
        json!({"a": SP_APPID, "b": wechat.base}),
    );
    let login = |openid: &str| {
        let (_, t) = post_json(addr, "/auth/wechat", None, &json!({"tenant": s.admin.slug, "code": wechat.login_code(SP_APPID, openid)}));
        t["accessToken"].as_str().unwrap().to_string()
    };
    let token = login("o-family-member");
    let bind = |token: &str, number: &Value, phone: Option<&str>, code: Option<&str>| {
        graphql(
            addr,
            Some(token),
            "mutation($n: String!, $p: String, $c: String) { bindAccount(input: {accountNumber: $n, phoneCode: $p, bindingCode: $c}) { id } }",
            json!({"n": number, "p": phone, "c": code}),
        )
    };
    let field = |v: &Value| {
        (v["errors"][0]["extensions"]["code"].as_str().map(String::from), v["errors"][0]["extensions"]["field"].as_str().map(String::from))
    };
    let refused = |f: &str| (Some("VALIDATION".to_string()), Some(f.to_string()));
    // Neither or both ways; a wrong code; the right code for another number.
    assert_eq!(field(&bind(&token, &number, None, None)), refused("phoneCode"));
    assert_eq!(field(&bind(&token, &number, Some("x"), Some(&code))), refused("phoneCode"));
    assert_eq!(field(&bind(&token, &number, None, Some("ZZZZZZZZ"))), refused("bindingCode"));
    assert_eq!(field(&bind(&token, &json!("A99999999"), None, Some(&code))), refused("bindingCode"));
    let mine = |token: &str| graphql(addr, Some(token), "{ myAccounts { id } }", json!({}))["data"]["myAccounts"].clone();
    assert_eq!(mine(&token), json!([]), "nothing bound by the refusals");
    // Case, spaces and dashes do not matter: the customer's accounts come back.
    let written = format!("{}-{} ", code[..4].to_lowercase(), &code[4..]);
    let bound = bind(&token, &number, None, Some(&written));
    assert!(bound.get("errors").is_none(), "{bound}");
    let mut ids: Vec<String> = mine(&token).as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_string()).collect();
    ids.sort();
    let mut expected = vec![s.accounts.0.clone(), s.accounts.1.clone()];
    expected.sort();
    assert_eq!(ids, expected, "the customer's accounts, both properties");

    // Rotated: the old code stops working at once.
    let new = s.admin.ok(ISSUE, json!({"a": s.accounts.1, "r": true}))["issueBindingCode"].as_str().unwrap().to_string();
    assert_ne!(new, code);
    let other = login("o-neighbour");
    assert_eq!(field(&bind(&other, &number, None, Some(&code))), refused("bindingCode"));
    // Ten wrong codes lock binding by code for the account, even with the right one.
    for _ in 0..9 {
        assert_eq!(field(&bind(&other, &number, None, Some("WRONG234"))), refused("bindingCode"));
    }
    let locked = bind(&other, &number, None, Some(&new));
    assert_eq!(field(&locked), refused("bindingCode"));
    assert!(locked["errors"][0]["message"].as_str().unwrap().contains("too many"), "{locked}");
    assert_eq!(mine(&other), json!([]));
    // A new code clears the lock.
    let fresh = s.admin.ok(ISSUE, json!({"a": s.accounts.1, "r": true}))["issueBindingCode"].as_str().unwrap().to_string();
    assert!(bind(&other, &number, None, Some(&fresh)).get("errors").is_none());

    // Not a customer's to issue, nor another tenant's operator's.
    let e = graphql(addr, Some(&token), ISSUE, json!({"a": s.accounts.1, "r": true}));
    assert_eq!(e["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let stranger = s.app.admin("binding-other").await;
    assert_eq!(stranger.fails(ISSUE, json!({"a": s.accounts.1, "r": true}))["code"], "NOT_FOUND");
    wechat.stop().await;
    s.pay.stop().await;
}
