// The rule objects, one per file in this folder (listed by AllRules in rules.cc).
#pragma once

#include "reconcile/rule.h"

namespace nhitrace::reconcile::rules {

const ReconcileRule* ApprovalNotIssued();
const ReconcileRule* IssuanceWithoutApproval();
const ReconcileRule* ActionWithoutGrant();
const ReconcileRule* ActionOutOfScope();
const ReconcileRule* ActionOutsideWindow();
const ReconcileRule* ActionAfterRevocation();
const ReconcileRule* RevocationUnconfirmed();
const ReconcileRule* ExceptionExpired();
const ReconcileRule* IdentityDormant();
const ReconcileRule* IdentityUnowned();
const ReconcileRule* SelfApproval();
const ReconcileRule* ApproverUnauthorized();
const ReconcileRule* OverrideCreep();
const ReconcileRule* CredentialLongLived();

}  // namespace nhitrace::reconcile::rules
