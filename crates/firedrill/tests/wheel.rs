//! The Wheel of Expertise on real labs: every template makes a card on
//! both bundled topologies, and its checker accepts the truth and refuses
//! a wrong answer; a scripted player gets a full board; `wheel show` lists
//! the commands the player ran, in order; escalation to the right on-call
//! counts, to the wrong one does not. One lab per topology.

mod common;

use common::{Lab, eventually};
use serde_json::{Value, json};

/// The truth as a player types it.
fn typed(truth: &Value) -> String {
    match truth["kind"].as_str() {
        Some("number") => truth["value"].as_f64().unwrap_or(0.0).to_string(),
        Some("set") => {
            let v: Vec<String> = truth["values"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect();
            if v.is_empty() {
                "none".into()
            } else {
                v.join(", ")
            }
        }
        _ => truth["value"].as_str().unwrap_or_default().to_string(),
    }
}

fn wrong(truth: &Value) -> String {
    match truth["kind"].as_str() {
        Some("number") => {
            let v = truth["value"].as_f64().unwrap_or(0.0);
            (v + truth["tolerance"].as_f64().unwrap_or(0.0) + 1.0 + v.abs()).to_string()
        }
        Some("set") => format!("{}, nosuchthing", typed(truth)).replace("none, ", ""),
        _ => format!("{}-not", typed(truth)),
    }
}

/// A page acknowledged by carol, so the page questions have a subject.
fn page_acknowledged(lab: &Lab) {
    let v = lab.post(
        "/api/pages",
        json!({"title": "wheel test page", "summary": "for the wheel"}),
    );
    let id = v["data"]["page"]["id"].as_i64().expect("a page");
    let (status, body) = lab.call(
        "POST",
        &format!("/api/pages/{id}/ack"),
        Some(&lab.token()),
        Some(json!({"by": "carol"})),
    );
    assert_eq!(status, 200, "{body}");
}

fn spin(lab: &Lab, token: &str, body: Value) -> (u16, Value) {
    lab.call("POST", "/api/wheel/spin", Some(token), Some(body))
}

fn every_template_makes_a_checked_card(lab: &Lab, topology: &str) {
    let owner = lab.token();
    page_acknowledged(lab);
    let templates = lab.get("/api/wheel/templates")["data"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(templates.len() >= 30, "{} templates", templates.len());
    for t in &templates {
        let id = t["id"].as_str().expect("template id");
        let mut last = Value::Null;
        // Rates need a few scrapes and traces a few requests: retry a while.
        let card = eventually(60, || {
            let (status, v) = spin(lab, &owner, json!({"player": "checker", "template": id}));
            last = v.clone();
            (status == 200).then(|| v["data"].clone())
        })
        .unwrap_or_else(|| panic!("{topology}: template {id} made no card: {last}"));
        assert_eq!(card["template"], id);
        let question = card["question"].as_str().unwrap_or_default();
        assert!(
            !question.contains("  ") && !question.contains(" ?"),
            "{topology} {id}: a subject is missing from {question:?}"
        );
        if id == "what.journey-needs" {
            // Every journey of both labs needs the entry and what it calls.
            let n = card["truth"]["values"].as_array().map(Vec::len);
            assert!(n.is_some_and(|n| n >= 2), "{topology}: {card}");
        }
        let truth = &card["truth"];
        let cid = card["id"].as_i64().expect("card id");
        let check = |answer: &str| {
            let (status, v) = lab.call(
                "POST",
                &format!("/api/wheel/cards/{cid}/check"),
                Some(&owner),
                Some(json!({"answer": answer})),
            );
            assert_eq!(status, 200, "{v}");
            v["data"]["correct"].as_bool()
        };
        assert_eq!(
            check(&typed(truth)),
            Some(true),
            "{topology} {id}: truth {truth} refused"
        );
        assert_eq!(
            check(&wrong(truth)),
            Some(false),
            "{topology} {id}: {} accepted for {truth}",
            wrong(truth)
        );
        let (status, v) = lab.call(
            "POST",
            "/api/wheel/answer",
            Some(&owner),
            Some(json!({"card": cid, "answer": typed(truth)})),
        );
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["data"]["correct"], true, "{v}");
    }
}

#[test]
fn chatbot_every_template() {
    let lab = Lab::start("chatbot", &[]);
    every_template_makes_a_checked_card(&lab, "chatbot");
}

#[test]
fn shop_templates_player_board_show_and_escalation() {
    let lab = Lab::start("shop", &[]);
    let owner = lab.token();
    every_template_makes_a_checked_card(&lab, "shop");

    // A scripted player (a trainee) in a new session.
    let alice = lab.new_token("alice", "trainee");
    let (status, v) = spin(&lab, &alice, json!({"template": "what.version"}));
    assert_eq!(status, 403, "a trainee may not choose the template: {v}");
    let (status, v) = spin(&lab, &alice, json!({"player": "bob"}));
    assert_eq!(status, 403, "a trainee plays only their own cards: {v}");
    let mut ids = Vec::new();
    for round in 0..3 {
        let body = if round == 0 {
            json!({"seed": 7, "new_session": true})
        } else {
            json!({})
        };
        let (status, v) = spin(&lab, &alice, body);
        assert_eq!(status, 200, "{v}");
        let card = &v["data"];
        assert!(
            card.get("truth").is_none(),
            "the truth is hidden from the player: {card}"
        );
        let id = card["id"].as_i64().expect("card id");
        let (status, _) = spin(&lab, &alice, json!({}));
        assert_eq!(status, 409, "one open card per player");
        // The player's path: two commands, then the answer from the API.
        let (ok, _, err) = lab.cli(&["--token", &alice, "status"]);
        assert!(ok, "{err}");
        let (ok, _, err) = lab.cli(&["--token", &alice, "query", &format!("up # round {round}")]);
        assert!(ok, "{err}");
        let truth = lab.get(&format!("/api/wheel/cards/{id}"))["data"]["truth"].clone();
        let (status, v) = lab.call(
            "POST",
            "/api/wheel/answer",
            Some(&alice),
            Some(json!({"answer": typed(&truth)})),
        );
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["data"]["correct"], true, "{v}");
        assert!(
            v["data"].get("truth").is_some(),
            "answered: the truth is shown"
        );
        ids.push(id);
    }
    let board = lab.get("/api/wheel/board")["data"].clone();
    let row = board["players"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["player"] == "alice").cloned())
        .expect("alice on the board");
    assert_eq!(board["session"]["seed"], 7, "{board}");
    assert_eq!(
        (row["cards"].as_u64(), row["correct"].as_u64()),
        (Some(3), Some(3)),
        "{row}"
    );

    // `wheel show`: the commands of the last card, in order.
    let last = ids[2];
    let v = lab.get(&format!("/api/wheel/cards/{last}"))["data"].clone();
    let cmds: Vec<String> = v["commands"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| match c["command"].as_str() {
            Some(s) => s.to_string(),
            None => format!(
                "{} {}",
                c["method"].as_str().unwrap_or(""),
                c["path"].as_str().unwrap_or("")
            ),
        })
        .collect();
    // The refused second spin, the two commands, the answer.
    assert_eq!(cmds.len(), 4, "{cmds:?}");
    assert_eq!(cmds[0], "POST /api/wheel/spin", "{cmds:?}");
    assert!(
        cmds[1].ends_with(" status") && cmds[1].contains("--token ***"),
        "{cmds:?}"
    );
    assert!(cmds[2].contains("query 'up # round 2'"), "{cmds:?}");
    assert_eq!(cmds[3], "POST /api/wheel/answer", "{cmds:?}");
    assert!(
        !cmds.iter().any(|c| c.contains(&alice)),
        "no token in the journal"
    );
    let (ok, out, err) = lab.cli(&["wheel", "show", &last.to_string()]);
    assert!(ok, "{err}");
    let status_at = out.find(" status").expect("status in show");
    let query_at = out.find("round 2").expect("query in show");
    assert!(status_at < query_at, "in order:\n{out}");
    assert!(
        !out.contains("round 1"),
        "only this card's commands:\n{out}"
    );

    // Escalation: to the primary on call counts, to another person not.
    let bob = lab.new_token("bob", "trainee");
    let on_call = lab.get("/api/oncall/who")["data"]["on_call"]
        .as_array()
        .and_then(|a| a.iter().find(|o| o["role"] == "primary").cloned())
        .and_then(|o| o["now"]["person"].as_str().map(str::to_string))
        .expect("a primary on call");
    let other = if on_call == "dave" { "carol" } else { "dave" };
    for (person, good) in [(on_call.as_str(), true), (other, false)] {
        let (status, v) = spin(&lab, &bob, json!({}));
        assert_eq!(status, 200, "{v}");
        let (status, v) = lab.call(
            "POST",
            "/api/wheel/escalate",
            Some(&alice),
            Some(json!({"person": person, "player": "bob"})),
        );
        assert_eq!(status, 403, "alice may not close bob's card: {v}");
        let (status, v) = lab.call(
            "POST",
            "/api/wheel/escalate",
            Some(&bob),
            Some(json!({"person": person})),
        );
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["data"]["correct"], good, "escalating to {person}: {v}");
        assert_eq!(v["data"]["state"], "escalated");
    }
    let board = lab.get("/api/wheel/board")["data"].clone();
    let row = board["players"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["player"] == "bob").cloned())
        .expect("bob on the board");
    assert_eq!(
        (
            row["escalated"].as_u64(),
            row["escalated_right"].as_u64(),
            row["good"].as_u64()
        ),
        (Some(2), Some(1), Some(1)),
        "{row}"
    );
    let (ok, out, err) = lab.cli(&["drill", "history", "--trainee", "alice"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("Wheel of Expertise cards of alice") && out.matches("answered").count() == 3,
        "the player's history holds the cards next to drills:\n{out}"
    );
    let (ok, out, err) = lab.cli(&["wheel", "board"]);
    assert!(
        ok && out.contains("alice") && out.contains("bob"),
        "{out}{err}"
    );

    // Stored and journaled: the history of a player, the events.
    let hist = lab.get("/api/wheel/cards?player=alice")["data"]
        .as_array()
        .map(Vec::len);
    assert_eq!(hist, Some(3));
    let ev = lab.get("/api/events?kind=wheel.")["data"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    assert!(ev >= 2 * 3 + 2 * 2, "{ev} wheel events");
    let (status, _) = lab.call(
        "POST",
        "/api/wheel/answer",
        Some(&owner),
        Some(json!({"answer": ""})),
    );
    assert_eq!(status, 400, "an empty answer is refused with a reason");
}
