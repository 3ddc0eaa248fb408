//! Re-key Key Pair (KMIP 1.4 §4.5, 2.1 §6.1.47): a replacement for a private key and its
//! public key (found through the private key's Public Key Link), generated in the HSM with the
//! same algorithm and size and each half's attributes copied as Re-key does
//! ([`super::rekey::replacement`]), Common attributes of the request applying to both halves.

use crate::kmip::enums::{LinkType, ObjectType, Operation};
use crate::kmip::objects::UniqueIdentifier;
use crate::kmip::payloads::{CreateKeyPairResponse, ReKeyKeyPairRequest};
use crate::kmip::ResponsePayload;

use super::create_key_pair::{generate_pair, pair_spec, requested_halves};
use super::object;
use super::rekey::{existing_key, replacement, retire};
use super::{OpContext, OpError, Outcome};

pub(super) fn run(cx: &OpContext<'_>, request: &ReKeyKeyPairRequest) -> Result<Outcome, OpError> {
    let op = Operation::ReKeyKeyPair;
    let svc = object::services(cx, op)?;
    let private_uid = cx.batch.resolve(request.private_key_unique_identifier.as_ref())?;
    let existing_private = existing_key(cx, &svc, &private_uid, op, ObjectType::PrivateKey)?;
    let public_uid = existing_private
        .attributes
        .iter()
        .find_map(|a| match a {
            crate::kmip::attributes::Attribute::Link(l) if l.link_type == LinkType::PublicKeyLink => {
                match &l.linked_object_identifier {
                    UniqueIdentifier::Text(uid) => Some(uid.clone()),
                    _ => None,
                }
            }
            _ => None,
        })
        .ok_or_else(|| OpError::InvalidObjectType("this private key has no Public Key Link to re-key with".into()))?;
    let existing_public = existing_key(cx, &svc, &public_uid, op, ObjectType::PublicKey)?;
    let (private_requested, public_requested) = requested_halves(
        cx,
        &svc,
        op,
        (request.common_template_attribute.as_ref(), request.common_attributes.as_ref()),
        (request.private_key_template_attribute.as_ref(), request.private_key_attributes.as_ref()),
        (request.public_key_template_attribute.as_ref(), request.public_key_attributes.as_ref()),
    )?;
    let mut private = replacement(&svc, &existing_private, &private_requested, request.offset)?;
    let public = replacement(&svc, &existing_public, &public_requested, request.offset)?;
    let (spec, _, _) = pair_spec(&private)?;
    let protection = object::key_protection(&mut private, cx.backend.policy());
    let (new_private, new_public, undo_new) = generate_pair(cx, &svc, spec, private, public, protection)?;
    let undo_private = retire(cx, &svc, &private_uid, &new_private, op)?;
    let undo_public = retire(cx, &svc, &public_uid, &new_public, op)?;
    let undo = super::undo_in_order(vec![undo_public, undo_private, undo_new]);
    Ok(Outcome::reply(ResponsePayload::ReKeyKeyPair(Box::new(CreateKeyPairResponse {
        private_key_unique_identifier: UniqueIdentifier::Text(new_private),
        public_key_unique_identifier: UniqueIdentifier::Text(new_public),
        private_key_template_attribute: None,
        public_key_template_attribute: None,
    })))
    .with_undo(undo))
}
