// safeshare advice list|approve|refuse: IG officers deciding held messages.
#include "agents/cli/common.h"

namespace safeshare::cli {
namespace {

void PrintHeld(std::ostream& out, const safeshare::v1::HeldMessage& h) {
  const auto& e = h.envelope_header();
  out << h.message_id() << "  " << KindName(e.kind()) << " " << e.sender_agency_id() << " -> "
      << e.recipient_agency_id() << "  held since " << TimeText(h.held_time());
  if (h.has_decide_by()) out << ", decide by " << TimeText(h.decide_by());
  if (h.has_escalated_time()) {
    out << ", ESCALATED to the federation's officers at " << TimeText(h.escalated_time());
  }
  out << "\n";
  PrintDecision(out, h.decision());
}

int AdviceList(const Invocation& inv) {
  auto client = Connect(inv);
  if (!client.ok()) return Failed(inv, client.status());
  std::string token;
  do {
    auto page = (*client)->ListHeld(token);
    if (!page.ok()) return Failed(inv, page.status());
    for (const auto& h : page->messages()) {
      if (inv.Switch("json")) {
        inv.out << ToJson(h) << "\n";
      } else {
        PrintHeld(inv.out, h);
      }
    }
    token = page->next_page_token();
  } while (!token.empty());
  return kExitDone;
}

int AdviceApprove(const Invocation& inv) {
  auto client = Connect(inv);
  if (!client.ok()) return Failed(inv, client.status());
  if (auto st = (*client)->Approve(inv.args[0], inv.Flag("reason")); !st.ok()) {
    return Failed(inv, st);
  }
  inv.out << "approved " << inv.args[0] << ": delivered to the recipient's mailbox\n";
  return kExitDone;
}

int AdviceRefuse(const Invocation& inv) {
  auto client = Connect(inv);
  if (!client.ok()) return Failed(inv, client.status());
  if (auto st = (*client)->RefuseHeld(inv.args[0], inv.Flag("reason")); !st.ok()) {
    return Failed(inv, st);
  }
  inv.out << "refused " << inv.args[0] << ": the sender sees the refusal\n";
  return kExitDone;
}

FlagSpec ReasonFlag() { return {"reason", "TEXT", "why (recorded in the audit log)"}; }

}  // namespace

std::vector<Command> AdviceCommands() {
  const std::vector<FlagSpec> officer = NetworkFlags("OFFICER_DIR");
  return {
      {"advice list",
       "messages held for IG advice that this officer may decide",
       {},
       Flags({{JsonFlag()}, officer}),
       AdviceList},
      {"advice approve",
       "approve a held message: it is delivered",
       {"MESSAGE_ID"},
       Flags({{ReasonFlag()}, officer}),
       AdviceApprove},
      {"advice refuse",
       "refuse a held message: the sender sees the refusal",
       {"MESSAGE_ID"},
       Flags({{ReasonFlag()}, officer}),
       AdviceRefuse},
  };
}

}  // namespace safeshare::cli
