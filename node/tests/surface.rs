//! The node's side of issue 13 (findings 3 and 7): its local search has the hub's bounds, and
//! its access log holds no personal number however the clerk typed it.

use civreg_testkit::node as common;

use common::*;

#[test]
fn the_local_search_is_bounded_and_its_log_holds_no_typed_number() {
    let n = TestNode::new();
    // Too many words, too long a query, too large a page: refused with the bound, before any work.
    let words = vec!["gashi"; 13].join(" ");
    let long = "arben ".repeat(200);
    for (args, says) in [
        (vec!["search", words.as_str()], "words"),
        (vec!["search", long.as_str()], "bytes"),
        (vec!["search", "--limit", "100000", "Gashi"], "page"),
    ] {
        let o = n.run(&args);
        assert_eq!(o.code, 1, "{args:?}: {}", o.all());
        assert!(o.all().contains(says), "{args:?}: {}", o.all());
    }
    // Typed forms of a JMBG, a Kosovo and an Albanian number: searched, logged without them.
    for text in [
        "JMBG:1403968950011",
        "jmbg=1403968950011;",
        "14.03.1968-950011",
        "140 396 895 0011",
        "I05101999A",
        "123-456-7892",
    ] {
        n.run(&["search", text]).ok();
    }
    let log = n.run(&["--json", "access-log"]).ok();
    for needle in ["1403968950011", "950011", "05101999", "7892", "396 895"] {
        assert!(
            !log.stdout.contains(needle),
            "the node's access log holds {needle:?}: {}",
            log.stdout
        );
    }
    assert!(log.stdout.contains("pn:"), "{}", log.stdout);
}
