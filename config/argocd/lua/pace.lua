-- Pace states (Objective, KeyResult): OnTrack, AtRisk, OffTrack, Achieved, Missed, Unknown.

local function progress_expected()
  return "progress " .. num(status.progress) .. ", expected " .. num(status.expected)
end

local function pace_problem(detail)
  if status.state == "OffTrack" then
    return verdict("Degraded", "OffTrack: " .. progress_expected() .. detail)
  end
  if status.state == "Missed" then
    return verdict("Degraded", "Missed: progress " .. num(status.progress) .. " at the end of the period")
  end
  return nil
end

local function pace_message(unknown)
  if status.state == "OnTrack" or status.state == "Achieved" then
    return status.state .. ", progress " .. num(status.progress)
  end
  if status.state == "AtRisk" then
    return "Warning: AtRisk, " .. progress_expected()
  end
  return "Unknown: " .. unknown
end
