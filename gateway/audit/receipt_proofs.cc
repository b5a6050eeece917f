#include "gateway/audit/receipt_proofs.h"

#include "absl/strings/str_cat.h"

namespace safeshare::gateway {

safeshare::v1::Checkpoint CheckpointProto(const CommitInfo& info) {
  safeshare::v1::Checkpoint c;
  c.set_origin(info.checkpoint_note.substr(0, info.checkpoint_note.find('\n')));
  c.set_tree_size(info.tree_size);
  c.set_root_hash(info.root_hash);
  c.set_signed_note(info.checkpoint_note);
  return c;
}

absl::Status AttachAuditProof(AuditLogStore& store, const CommitInfo& checkpoint,
                              safeshare::v1::SubmitResponse* receipt) {
  auto* proof = receipt->mutable_audit_inclusion_proof();
  const uint64_t index = proof->leaf_index();
  if (index >= checkpoint.tree_size) {
    return absl::InternalError(absl::StrCat(
        "audit record ", index, " is not in the checkpoint of size ", checkpoint.tree_size));
  }
  auto hashes = store.InclusionProof(index, checkpoint.tree_size);
  if (!hashes.ok()) return hashes.status();
  proof->set_tree_size(checkpoint.tree_size);
  proof->clear_hashes();
  for (auto& h : *hashes) proof->add_hashes(std::move(h));
  *receipt->mutable_audit_checkpoint() = CheckpointProto(checkpoint);
  return absl::OkStatus();
}

absl::StatusOr<safeshare::v1::WitnessedInclusion> WitnessedInclusionFor(Store& store,
                                                                        uint64_t leaf_index) {
  auto cosigned = store.LatestCosignedCheckpoint();
  if (!cosigned.ok()) return cosigned.status();
  if (!cosigned->has_value() || (*cosigned)->tree_size <= leaf_index) {
    return absl::FailedPreconditionError(
        "no checkpoint witnesses have cosigned covers this record yet; ask again after the "
        "next cosigning round (or witnessing is not configured on this gateway)");
  }
  const CommitInfo& checkpoint = **cosigned;
  auto proof = store.InclusionProof(leaf_index, checkpoint.tree_size);
  if (!proof.ok()) return proof.status();
  safeshare::v1::WitnessedInclusion out;
  *out.mutable_checkpoint() = CheckpointProto(checkpoint);
  out.mutable_proof()->set_leaf_index(leaf_index);
  out.mutable_proof()->set_tree_size(checkpoint.tree_size);
  for (auto& h : *proof) out.mutable_proof()->add_hashes(std::move(h));
  return out;
}

}  // namespace safeshare::gateway
