-- ServiceLevelObjective: its error budget, then its rules, then whether metrics arrived.
local remaining = nil
if status.errorBudget ~= nil then
  remaining = status.errorBudget.remaining
end
local alerts = ""
if status.alerts ~= nil and #status.alerts > 0 then
  alerts = "; alerts firing: " .. table.concat(status.alerts, ", ")
end

local function budget_problem()
  if status.state == "Exhausted" then
    return verdict("Degraded", "error budget exhausted: remaining " .. num(remaining) .. alerts)
  end
  if status.state == "Critical" then
    return verdict("Degraded", "Critical: error budget remaining " .. num(remaining) .. alerts)
  end
  return nil
end

local function budget_message()
  if status.state == "Healthy" then
    return "Healthy, SLI " .. num(status.sli, "%.3f") .. "%, error budget remaining " .. num(remaining)
  end
  if status.state == "Warning" then
    return "Warning: error budget remaining " .. num(remaining) .. alerts
  end
  return "Unknown: no SLI yet (no traffic in the window?)"
end

return budget_problem()
  or rules_not_synced()
  or waiting_for_metrics(status.sli ~= nil or remaining ~= nil)
  or healthy(budget_message())
