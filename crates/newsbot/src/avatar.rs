//! The avatar of the spec's §6, shared by `newsbot run`'s `index.html` and `newsbot serve`'s
//! page: an SVG face whose mouth takes, at every animation frame of the page, the shape of the
//! viseme frame at the playing audio's current time (the `frames_open_width` of
//! `visemes.json`, see [`crate::speech::visemes_json`]).

/// The face: an SVG element `#face` with the mouth ellipse `#mouth`.
pub const FACE_SVG: &str = r##"<svg id="face" width="180" height="200" viewBox="0 0 180 200" aria-label="avatar">
<ellipse cx="90" cy="100" rx="75" ry="90" fill="#f3d2b3" stroke="#8a6a4f" stroke-width="3"/>
<circle cx="62" cy="80" r="8" fill="#333"/><circle cx="118" cy="80" r="8" fill="#333"/>
<ellipse id="mouth" cx="90" cy="145" rx="25" ry="2" fill="#7a2530"/></svg>"##;

/// The mouth animation (JavaScript, after [`FACE_SVG`] in the page). Set
/// `newsbotAvatar.players` to a list of `[audio element, visemes.json document]`: while one of
/// them plays (or is paused with `data-hold` set, which keeps its last frame), the mouth follows
/// its viseme frames. The current shape is mirrored in `#face`'s `data-mouth` attribute
/// (`open,width`) for tests.
pub const MOUTH_SCRIPT: &str = r#"const newsbotAvatar = { players: [] };
(function () {
  const face = document.getElementById("face");
  const mouth = document.getElementById("mouth");
  function draw() {
    let open = 0, width = 0.5;
    for (const [audio, track] of newsbotAvatar.players) {
      if (track && audio && (!audio.paused || audio.dataset.hold)) {
        const i = Math.min(track.frames_open_width.length - 1, Math.floor(audio.currentTime * track.fps));
        if (i >= 0) [open, width] = track.frames_open_width[i];
      }
    }
    mouth.setAttribute("ry", (2 + 22 * open).toFixed(1));
    mouth.setAttribute("rx", (12 + 30 * width).toFixed(1));
    face.dataset.mouth = open.toFixed(3) + "," + width.toFixed(3);
    requestAnimationFrame(draw);
  }
  requestAnimationFrame(draw);
})();
"#;
