-- MaintenanceWindow: on now (until when and why), or when the next one starts. A window is planned
-- work, not a fault: it stays Healthy either way and says which SLOs it quiets.
local reason = ""
if obj.spec ~= nil and obj.spec.reason ~= nil then
  reason = ": " .. obj.spec.reason
end

local function covered()
  if status.slos == nil or #status.slos == 0 then
    return nil
  end
  return table.concat(status.slos, ", ")
end

local slos = covered()
if slos == nil then
  return healthy("matches no ServiceLevelObjective in its namespace")
end
if status.active then
  return healthy("active until " .. tostring(status.activeUntil) .. " for " .. slos .. reason)
end
if status.nextStart ~= nil then
  return healthy("next window at " .. tostring(status.nextStart) .. " for " .. slos)
end
return healthy("over: no further window (a one-off that has ended)")
