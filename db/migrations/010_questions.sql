-- The questions inbox (handlers/questions.go, handlers/admin_questions.go):
-- students ask the council inside festa instead of a third-party chat
-- widget. A question is answered once; the council picks from a list of
-- canned answers it keeps itself, and may edit the text before sending.

CREATE TABLE questions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    student_id      bigint NOT NULL REFERENCES students ON DELETE CASCADE,
    -- The performance the question is about, when the student names one.
    performance_id  bigint REFERENCES performances ON DELETE SET NULL,
    -- Counted in characters (a Korean syllable is one); text of only spaces
    -- and line breaks is refused.
    body            text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 1000 AND body ~ '[^[:space:]]'),
    created_at      timestamptz NOT NULL DEFAULT now(),
    answer          text CHECK (char_length(answer) BETWEEN 1 AND 2000 AND answer ~ '[^[:space:]]'),
    answered_at     timestamptz,
    answered_by     bigint REFERENCES staff ON DELETE SET NULL,
    -- Set when the student has seen the answer on /questions; until then
    -- their pages say an answer has arrived.
    read_by_student boolean NOT NULL DEFAULT false,
    CONSTRAINT questions_answer_whole CHECK ((answer IS NULL) = (answered_at IS NULL)),
    CONSTRAINT questions_read_answered CHECK (NOT read_by_student OR answered_at IS NOT NULL)
);
-- A student's own list, newest first, and the rate limit's count.
CREATE INDEX questions_student ON questions (student_id, created_at DESC);
-- The council's inbox: what is still waiting.
CREATE INDEX questions_waiting ON questions (created_at DESC) WHERE answered_at IS NULL;

-- Canned answers: the council's ready replies for the common questions,
-- edited in the console. Choosing one fills the answer box; it is copied,
-- so changing or deleting a canned answer never changes a sent one.
CREATE TABLE canned_answers (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title      text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 60 AND title ~ '[^[:space:]]'),
    body       text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 2000 AND body ~ '[^[:space:]]'),
    created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO canned_answers (title, body) VALUES
    ('환불·취소', '예매한 표는 공연 시작 전까지 "내 표"에서 직접 취소할 수 있어요. 취소하면 좌석은 바로 다른 학생에게 열려요. 시작 이후에는 취소할 수 없어요.'),
    ('좌석 변경', '좌석을 바꾸려면 지금 표를 취소한 뒤 남은 좌석에서 다시 예매해 주세요. 취소한 좌석은 다른 학생이 먼저 가져갈 수 있으니 신중하게 결정해 주세요.'),
    ('입장 시간', '입장은 공연 시작 30분 전부터예요. 입구에서 휴대폰의 QR 표를 보여 주세요. 화면 밝기를 높여 두면 더 빨리 입장할 수 있어요.'),
    ('접속 코드 분실', '접속 코드를 잃어버렸다면 학생증을 가지고 학생회실로 와 주세요. 본인 확인 후 새 코드를 발급해 드려요. 새 코드를 받으면 예전 코드는 더 이상 쓸 수 없어요.');
