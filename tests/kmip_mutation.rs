//! "Never drop a field silently", tested beyond the corpus: every OASIS 1.3–2.1 message is
//! mutated at random (a child removed, duplicated or moved, an item's type or enumeration
//! value changed), and each mutant must either be rejected with a `ModelError` or decode to a
//! model that encodes back to exactly the mutant. A mutant that decodes but re-encodes
//! differently would be a field the model lost or invented.

mod common;

use kmipd::kmip::{RequestMessage, ResponseMessage};
use kmipd::ttlv::xml::{self, Placeholders};
use kmipd::ttlv::{Tag, Ttlv, Value};

const FOLDERS: &[&str] = &["kmip-1.3", "kmip-1.4", "kmip-2.0", "kmip-2.1"];
const MUTANTS_PER_MESSAGE: usize = 6;

/// xorshift64: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn count(item: &Ttlv) -> usize {
    1 + item.children().iter().map(count).sum::<usize>()
}

/// The child-index path to the `n`-th (pre-order) Structure that has children.
fn nth_parent_path(item: &Ttlv, n: &mut usize, path: &mut Vec<usize>) -> bool {
    if item.children().is_empty() {
        return false;
    }
    if *n == 0 {
        return true;
    }
    *n -= 1;
    for (i, c) in item.children().iter().enumerate() {
        path.push(i);
        if nth_parent_path(c, n, path) {
            return true;
        }
        path.pop();
    }
    false
}

fn children_at<'a>(item: &'a mut Ttlv, path: &[usize]) -> &'a mut Vec<Ttlv> {
    let Value::Structure(children) = &mut item.value else { unreachable!("paths lead to Structures") };
    match path.split_first() {
        None => children,
        Some((i, rest)) => children_at(&mut children[*i], rest),
    }
}

fn parents(item: &Ttlv) -> usize {
    usize::from(!item.children().is_empty()) + item.children().iter().map(parents).sum::<usize>()
}

fn mutate(item: &Ttlv, rng: &mut Rng) -> Ttlv {
    let mut m = item.clone();
    let mut n = rng.below(parents(&m));
    let mut path = Vec::new();
    if !nth_parent_path(&m, &mut n, &mut path) {
        return m;
    }
    let children = children_at(&mut m, &path);
    let i = rng.below(children.len());
    match rng.below(5) {
        0 => {
            children.remove(i);
        }
        1 => {
            let copy = children[i].clone();
            children.insert(i, copy);
        }
        2 => {
            let j = rng.below(children.len());
            children.swap(i, j);
        }
        3 => {
            let c = &mut children[i];
            c.value = match &c.value {
                Value::Integer(v) => Value::TextString(v.to_string()),
                Value::TextString(_) => Value::Integer(7),
                Value::Enumeration(v) => Value::Integer(*v as i32),
                Value::ByteString(b) => Value::TextString(hex::encode(b)),
                Value::Boolean(b) => Value::Integer(i32::from(*b)),
                Value::DateTime(t) => Value::LongInteger(*t),
                Value::Structure(_) => Value::ByteString(vec![1, 2, 3]),
                other => Value::Structure(vec![Ttlv::new(Tag::DATA, other.clone())]),
            };
        }
        _ => {
            let c = &mut children[i];
            if let Value::Enumeration(_) = c.value {
                c.value = Value::Enumeration((rng.next() % 0x60) as u32);
            } else {
                c.tag = Tag(0x420000 + (rng.next() % 0x180) as u32);
            }
        }
    }
    m
}

#[test]
fn mutants_are_rejected_or_round_trip_exactly() {
    let dir = common::corpus_dir();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut mutants, mut rejected, mut accepted) = (0usize, 0usize, 0usize);
    let mut lost = Vec::new();
    for folder in FOLDERS {
        for path in common::xml_files(&dir.join(folder)) {
            let text = std::fs::read_to_string(&path).unwrap();
            let Ok(items) = xml::parse_test_case(&text, &Placeholders::default()) else { continue };
            for item in &items {
                assert!(count(item) > 1);
                for _ in 0..MUTANTS_PER_MESSAGE {
                    let m = mutate(item, &mut rng);
                    if &m == item {
                        continue;
                    }
                    mutants += 1;
                    let back = if m.tag == Tag::REQUEST_MESSAGE {
                        RequestMessage::from_ttlv(&m).map(|x| x.to_ttlv())
                    } else {
                        ResponseMessage::from_ttlv(&m).map(|x| x.to_ttlv())
                    };
                    match back {
                        Err(_) => rejected += 1,
                        Ok(b) if b == m => accepted += 1,
                        Ok(_) => lost.push(format!("{}", path.display())),
                    }
                }
            }
        }
    }
    println!(
        "{mutants} mutants: {rejected} rejected with a ModelError, {accepted} accepted and round-tripped"
    );
    for l in lost.iter().take(20) {
        println!("CHANGED {l}");
    }
    assert!(lost.is_empty(), "{} mutants decoded but re-encoded differently", lost.len());
    assert!(mutants > 20_000);
}
