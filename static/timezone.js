// Tell the server this browser's time zone once (a cookie it validates), so dates and times show in local time
// from the next page on; without it they say "UTC". Nothing else is sent, and nothing needs it to work.
(function () {
  "use strict";
  let zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    return;
  }
  if (!/^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone)) return;  // an IANA name, which a cookie carries as it is
  const current = document.cookie.split("; ").find(function (pair) { return pair.indexOf("tz=") === 0; });
  if (current && current.slice(3) === zone) return;
  const secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = "tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax" + secure;
})();
