/** Cues that hold in every language: emoji and punctuation. */
import { chars, charsWhole, lexicon } from '../build.js';

export const UNIVERSAL = lexicon('*', [
  [
    'angry_emoji',
    'negative_feedback',
    0.75,
    'An angry or thumbs-down emoji (👎 😡 🙄)',
    chars('👎', '😡', '😠', '🤬', '😤', '🙄', '😒', '🤦'),
  ],
  [
    'question_marks',
    'negative_feedback',
    0.5,
    'The turn is only question marks, or ends in several (confusion)',
    chars('\\?{2,}\\s*$', '？{2,}\\s*$'),
  ],
  ['thanks_emoji', 'gratitude', 0.6, 'A thank-you emoji (🙏)', chars('🙏')],
  [
    'praise_emoji',
    'praise',
    0.6,
    'A praising emoji (👍 👏 💯 😍)',
    chars('👍', '👏', '🙌', '💯', '😍', '🥰', '❤️', '🔥', '🤩'),
  ],
  ['laugh_emoji', 'humor', 0.7, 'A laughing emoji (😂 🤣)', chars('😂', '🤣', '😆', '😹', '😄')],
  [
    'thumbs_up_alone',
    'acknowledgment',
    0.6,
    'The whole turn is a thumbs-up or OK emoji',
    charsWhole('👍+', '👌+', '🆗'),
  ],
]);
